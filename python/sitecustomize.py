"""server-coverage's ``sitecustomize`` for every Python server that is not uWSGI.

Put first on ``PYTHONPATH`` by the collector, so Python imports it at startup, before the app:
Coverage.py starts in the first process (import-time lines traced), and every process started
from it runs this file too:

- forked workers (gunicorn, hypercorn, ``multiprocessing`` with fork) inherit the tracer;
  ``os.register_at_fork`` makes the parent save before each fork and registers each child with the
  collector;
- spawned workers (uvicorn ``--workers``: ``multiprocessing`` with spawn) and other child
  interpreters (Django's autoreloader runs the server in ``python manage.py …`` again) are new
  interpreters: they inherit ``PYTHONPATH`` through the environment, so they import this file and
  start on their own;
- a ``multiprocessing`` child saves when its work ends (a forked one leaves through ``os._exit``).

SIGTERM/SIGHUP left at their default would kill a process without any exit hook: we save first,
then let the signal kill it as before (a server that handles them, as gunicorn, uvicorn and
hypercorn's parent do, keeps its own handling). Any ``sitecustomize`` this one shadows (Debian
ships one) is run afterwards.
"""
import os
import signal
import sys


def _install():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    try:
        import _server_coverage_agent as agent
    finally:
        sys.path.pop(0)
    if agent.start('python') is None:
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, agent.save_and_die)
    agent.patch_multiprocessing()
    agent.connect()
    # The parent saves before forking, so a child starts with nothing it did not run itself.
    os.register_at_fork(before=agent.before_fork, after_in_parent=agent.after_fork_in_parent,
                        after_in_child=_child)


def _child():
    import _server_coverage_agent as agent
    agent.start_child(keep_inherited=False)
    agent.connect()


def _chain():
    """Runs the next ``sitecustomize`` on the path, which this file shadows."""
    import importlib.machinery
    import importlib.util
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [entry for entry in sys.path if os.path.abspath(entry or '.') != here]
    spec = importlib.machinery.PathFinder.find_spec('sitecustomize', rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception:
        pass


if os.environ.get('SERVER_COVERAGE_SOCKET'):
    _install()
_chain()
