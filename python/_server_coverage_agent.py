"""The part of server-coverage that runs inside every Python server process.

Loaded by ``uwsgi_hook.py`` (uWSGI's ``shared-import``, in the master before the app is imported)
or by ``sitecustomize.py`` (plain Python and gunicorn). It imitates the Node agent
(``src/agent/preload.cts``):

1. starts Coverage.py once, early, in the first process, so the app's import-time lines are traced
   and forked workers inherit the tracer;
2. in every worker, registers with the collector over the control socket
   (``SERVER_COVERAGE_SOCKET``) and answers ``flush`` with ``cov.save()`` and an acknowledgement;
3. saves periodically, so a worker killed inside a request loses at most one interval;
4. saves at exit (never combines: combining in workers races on SQLite, see ../shared python.md);
5. if the socket closes after ``welcome`` without ``bye``, the test runner died: stop the server.

Everything it learns (started, or why it could not) goes to a marker file the collector's
``verify()`` reads, because uWSGI swallows a failing shared-import hook silently.

Standard library only: it runs in the user's interpreter, whatever is installed there.
"""
import atexit
import json
import os
import signal
import socket
import sys
import threading
import time

SOCKET_PATH = os.environ.get('SERVER_COVERAGE_SOCKET')
CONFIG_FILE = os.environ.get('SERVER_COVERAGE_PY_CONFIG')
STATE_DIR = os.environ.get('SERVER_COVERAGE_PY_STATE')
SAVE_INTERVAL_S = float(os.environ.get('SERVER_COVERAGE_PY_SAVE_INTERVAL') or 5)
ORPHAN_EXIT_S = 5.0

_cov = None
_save_lock = threading.Lock()
_control_pid = None
# Who stops the server when the runner died: set by the host hook (uWSGI: SIGINT to the master).
on_orphan = None


def write_marker(kind, **fields):
    """Writes ``<kind>-<pid>.json`` in the state dir (the collector reads them in verify/read)."""
    if not STATE_DIR:
        return
    fields.update(
        pid=os.getpid(),
        python=sys.version.split()[0],
        version=list(sys.version_info[:2]),
        executable=sys.executable,
        prefix=sys.prefix,
    )
    path = os.path.join(STATE_DIR, '%s-%d.json' % (kind, os.getpid()))
    try:
        with open(path + '.tmp', 'w') as handle:
            json.dump(fields, handle)
        os.replace(path + '.tmp', path)
    except OSError:
        pass


def start(host):
    """Starts Coverage.py in this process (once); returns it, or None after writing an error marker."""
    global _cov
    if _cov is not None:
        return _cov
    if not (SOCKET_PATH and CONFIG_FILE and STATE_DIR):
        return None
    try:
        import coverage
    except Exception as error:  # ImportError, or a broken install (C tracer built for another Python)
        write_marker('error', code='COVERAGE_MISSING', host=host, message='%s: %s' % (type(error).__name__, error))
        return None
    try:
        cov = coverage.Coverage(config_file=CONFIG_FILE, data_suffix=True)
        cov.start()
    except Exception as error:
        write_marker('error', code='COVERAGE_FAILED', host=host, message='%s: %s' % (type(error).__name__, error))
        return None
    _cov = cov
    tracer = getattr(cov._collector, 'tracer_name', lambda: 'unknown')()
    write_marker('started', host=host, coverage=coverage.__version__, tracer=tracer,
                 coverage_path=os.path.dirname(coverage.__file__))
    # Python's own exit hook: a fallback when the host's (uwsgi.atexit) is replaced by the app.
    atexit.register(final_save)
    return cov


def save():
    """Writes this process's data file (cumulative, one per process). Returns an error string or None."""
    if _cov is None:
        return 'coverage is not running in this process'
    error = None
    with _save_lock:
        # Tracers of other threads may add to a set while Coverage copies it: retry.
        for _ in range(3):
            try:
                _cov.save()
                return None
            except RuntimeError as caught:
                error = caught
            except Exception as caught:
                return '%s: %s' % (type(caught).__name__, caught)
    return str(error)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def final_save():
    """Stops tracing and saves: the exit path of a worker. Safe to call twice."""
    if _cov is None:
        return
    # uWSGI exits from inside its signal handler; a second stop signal (the group's SIGTERM plus
    # the master's SIGINT) would re-enter exit() in the middle of this save and deadlock in malloc.
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    except (OSError, ValueError):
        pass
    try:
        _cov.stop()
    except Exception:
        pass
    save()


def trace_this_thread():
    """Installs Coverage's tracer in a thread that ``threading.settrace`` never reached (C-created)."""
    trace = threading.gettrace()
    if trace is not None and sys.gettrace() is None:
        sys.settrace(trace)


def _send(sock, message):
    sock.sendall((json.dumps(message) + '\n').encode())


def _control_loop(pid):
    # This thread is ours, not the app's: never trace it, and leave stop signals to the main thread
    # (a handler that exits must not run here, mid-save).
    sys.settrace(None)
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(SOCKET_PATH)
        _send(sock, {'t': 'hello', 'pid': pid, 'ppid': os.getppid(), 'threadId': 0, 'argv': sys.argv[:2]})
    except OSError:
        return  # no collector (stale env): stay out of the way
    sock.settimeout(SAVE_INTERVAL_S)
    welcomed = said_bye = False
    buffered = b''
    last_save = time.monotonic()
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            chunk = None
        except OSError:
            chunk = b''
        if chunk == b'':
            break
        if os.getpid() != pid:
            return  # a fork of this process inherited the thread state; it has its own connection
        if chunk:
            buffered += chunk
            while b'\n' in buffered:
                line, buffered = buffered.split(b'\n', 1)
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                kind = message.get('t')
                if kind == 'flush':
                    error = save()
                    last_save = time.monotonic()
                    reply = {'t': 'flushed', 'id': message.get('id')}
                    if error:
                        reply['error'] = error
                    try:
                        _send(sock, reply)
                    except OSError:
                        break
                elif kind == 'welcome':
                    welcomed = True
                elif kind == 'bye':
                    said_bye = True
        if time.monotonic() - last_save >= SAVE_INTERVAL_S:
            save()
            last_save = time.monotonic()
    try:
        sock.close()
    except OSError:
        pass
    if welcomed and not said_bye:
        _stop_orphan()


def _stop_orphan():
    save()
    if on_orphan is not None:
        on_orphan()
        return
    # The root process stops itself (its own SIGTERM handling runs); a forked child leaves that to
    # its parent, which holds a connection of its own.
    if os.getpid() != _root_pid:
        return
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(ORPHAN_EXIT_S)
    os._exit(0)


def connect():
    """Registers this process with the collector from a daemon thread (call once per process)."""
    global _control_pid
    if _cov is None or not SOCKET_PATH or _control_pid == os.getpid():
        return
    _control_pid = os.getpid()
    thread = threading.Thread(target=_control_loop, args=(os.getpid(),), name='server-coverage', daemon=True)
    thread.start()


_root_pid = os.getpid()
