"""server-coverage's ``sitecustomize`` for plain Python servers and gunicorn.

Put first on ``PYTHONPATH`` by the collector, so Python imports it at startup, before the app:
Coverage.py starts in the first process (import-time lines traced) and forked workers (gunicorn,
multiprocessing) inherit the tracer; ``os.register_at_fork`` makes the parent save before each
fork and registers each child with the collector. SIGTERM/SIGHUP would kill a plain Python process without running ``atexit`` (no data
saved): they raise ``SystemExit`` instead unless the app installs handlers of its own (gunicorn
does, and exits through ``sys.exit``). Any ``sitecustomize`` this one shadows (Debian ships one)
is run afterwards.
"""
import os
import signal
import sys


def _exit_on(signum, frame):
    sys.exit(128 + signum)


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
            signal.signal(signum, _exit_on)
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
