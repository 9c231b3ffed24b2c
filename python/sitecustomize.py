"""server-coverage's ``sitecustomize`` for every Python server that is not uWSGI.

Put first on ``PYTHONPATH`` — by the collector for a server it starts, by the user for a server
started by something else (with ``SERVER_COVERAGE_CONNECT``/``SERVER_COVERAGE_TOKEN``: network mode) —
so Python imports it at startup, before the app:
Coverage.py starts in the first process (import-time lines traced), and every process started
from it runs this file too:

- forked workers (gunicorn, hypercorn, ``multiprocessing`` with fork) inherit the tracer;
  ``os.register_at_fork`` registers each child with the collector, and the child drops the data it
  inherited (its parent saves that itself);
- spawned workers (uvicorn ``--workers``: ``multiprocessing`` with spawn) and other child
  interpreters (Django's autoreloader runs the server in ``python manage.py …`` again) are new
  interpreters: they inherit ``PYTHONPATH`` through the environment, so they import this file and
  start on their own;
- a ``multiprocessing`` child saves when its work ends (a forked one leaves through ``os._exit``).

SIGTERM/SIGHUP left at their default would kill a process without any exit hook: we save first,
then let the signal kill it as before (a server that handles them, as gunicorn, uvicorn and
hypercorn's parent do, keeps its own handling), also when the process sets them back to their
default later (asyncio does when its loop closes); a stop signal that arrives during the exit save
acts after it. Not in network mode, where the server is not ours.
Any ``sitecustomize`` this one shadows (Debian ships one) is run afterwards.
"""
import os
import sys


def _install():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    # No bytecode of ours in the package's folder (it may be read-only, or packed again).
    previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        import _server_coverage_agent as agent
    finally:
        sys.path.pop(0)
        sys.dont_write_bytecode = previous
    if agent.start('python') is None:
        return
    if not agent.NETWORK:
        # (A server we did not start, reporting over the network, keeps its signals and exits as
        # they are: as the Node agent, we add no handler and no exit hook there.)
        agent.handle_stop_signals()
        agent.patch_multiprocessing()
    agent.connect()
    # A child starts with nothing it did not run itself; no save is in progress while forking.
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


# SERVER_COVERAGE_SOCKET: a server we started; SERVER_COVERAGE_CONNECT: one started by something
# else, reporting to a collector over TCP (network mode, see _server_coverage_network.py).
if os.environ.get('SERVER_COVERAGE_SOCKET') or os.environ.get('SERVER_COVERAGE_CONNECT'):
    _install()
_chain()
