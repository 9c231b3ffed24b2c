"""server-coverage's uWSGI hook, injected as ``UWSGI_SHARED_IMPORT=<this file>`` (by the collector for
a server it starts; by the user, with ``SERVER_COVERAGE_CONNECT``/``SERVER_COVERAGE_TOKEN``, for one
started by something else: the network mode of ``_server_coverage_agent.py``).

uWSGI runs shared imports in the master after the ``uwsgi`` module exists and before the app is
imported, so Coverage.py starts here: the app's import-time lines are traced, and every forked
worker inherits the tracer. Per worker (``uwsgi.post_fork_hook``; Python's ``os.register_at_fork``
is not called by uWSGI's C fork) it registers with the collector. The master never saves, so the
import-time lines it ran are in every worker it forks: the first worker of this master boot keeps
them, later ones (a worker the master respawns) drop them, so they count once per boot (a reload
re-executes the master binary: a new boot, which really runs them again). At worker exit
(``uwsgi.atexit``, chained to any previous one) it only stops and saves. uWSGI's extra core
threads (``threads = N``) are created in C, out of reach of ``threading.settrace``: each builds a
``threading._DummyThread`` once, where the tracer is installed.
"""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# No bytecode of ours in the package's folder (it may be read-only, or packed again).
_previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True
try:
    import _server_coverage_agent as agent
finally:
    sys.path.pop(0)
    sys.dont_write_bytecode = _previous

import uwsgi  # noqa: E402  (exists only inside uWSGI)


def _stop_master():
    # SIGINT stops uWSGI 2.0 (SIGTERM would reload it unless die-on-term is set).
    try:
        os.kill(uwsgi.masterpid() or os.getppid(), signal.SIGINT)
    except (OSError, AttributeError):
        pass


def _install():
    if agent.start('uwsgi') is None:
        return
    agent.on_orphan = _stop_master
    # The collector adds enable-threads to a server it starts (UWSGI_ENABLE_THREADS); one started
    # by something else (network mode) must have it, or our thread runs only inside requests.
    if agent.NETWORK and not (uwsgi.opt.get('enable-threads') or uwsgi.opt.get('threads')):
        sys.stderr.write('server-coverage: this uWSGI runs without Python threads, so the network agent can answer the '
                         'collector only while a request runs: add `enable-threads = true` to the ini (or UWSGI_ENABLE_THREADS=1)\n')

    dummy_init = threading._DummyThread.__init__

    def traced_dummy_init(self, *args, **kwargs):
        agent.trace_this_thread()
        dummy_init(self, *args, **kwargs)

    threading._DummyThread.__init__ = traced_dummy_init

    previous_post_fork = getattr(uwsgi, 'post_fork_hook', None)
    # A reload re-executes the master, which runs this hook (and the app's import) again: a new boot.
    boot_id = '%d-%d' % (os.getpid(), time.time_ns())

    def post_fork():
        agent.start_child(keep_inherited=agent.claim_inherited(boot_id))
        agent.write_marker('worker', worker=uwsgi.worker_id())
        agent.connect()
        if previous_post_fork is not None:
            previous_post_fork()

    uwsgi.post_fork_hook = post_fork

    previous_atexit = getattr(uwsgi, 'atexit', None)

    def at_exit():
        # Only save in workers: the master never serves, and its import-time lines are in the first
        # worker's data (inherited through fork).
        if uwsgi.worker_id() > 0:
            agent.final_save()
        if previous_atexit is not None:
            previous_atexit()

    uwsgi.atexit = at_exit


_install()
