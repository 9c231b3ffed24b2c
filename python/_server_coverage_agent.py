"""The part of server-coverage that runs inside every Python server process.

Loaded by ``uwsgi_hook.py`` (uWSGI's ``shared-import``, in the master before the app is imported)
or by ``sitecustomize.py`` (every other Python server: gunicorn, uvicorn, hypercorn, Django, plain
Python, and every Python process they start). It imitates the Node agent
(``src/agent/preload.cts``):

1. starts Coverage.py once, early, in the first process, so the app's import-time lines are traced
   and forked workers inherit the tracer;
2. in every worker, registers with the collector over the control socket
   (``SERVER_COVERAGE_SOCKET``) and answers ``flush`` with a save and an acknowledgement;
3. saves periodically, so a worker killed inside a request loses at most one interval;
4. saves at exit (never combines: combining in workers races on SQLite, see ../shared python.md),
   when a ``multiprocessing`` child's work ends, and before a default stop signal kills the process;
5. if the socket closes after ``welcome`` without ``bye``, the test runner died: stop the server.

Every save is a *rotation*: what the process ran since its previous save goes into a data file of
its own, which is then moved (complete, closed) into the ready folder, and collection goes on into
a fresh file. The collector reads each ready file once, so every read is what ran since the
previous one (like ``v8.takeCoverage()`` for Node). Coverage.py 6.5 keeps one cumulative file per
process; rotating relies on these parts of it (``coverage/control.py``, ``sqldata.py``,
``collector.py``):

- ``Coverage.get_data()`` moves the tracers' in-memory data into the ``CoverageData`` (SQLite) and
  clears it (``Collector.flush_data``); every SQLite access opens and closes its connection, so the
  file is complete when ``get_data()`` returns;
- ``CoverageData._reset()`` closes it; ``_choose_filename()`` picks a new ``<host>.<pid>.<random>``
  name; ``_has_arcs``/``_has_lines`` must be cleared too, or the new file never records that it
  holds arcs (Coverage.py's own fork handling forgets that).

Forks: a child inherits the data its parent ran but had not saved yet. A forked child of a
process that saves (it registered) drops it (``start_child``): the parent saves it itself. The
uWSGI master never saves (it does not serve); the first worker forked from one master boot keeps
what it inherited (the app's import-time lines), every later one drops it, so those lines count
once per boot, not once per worker generation.

Everything it learns (started, or why it could not) goes to a marker file the collector's
``verify()`` reads, because uWSGI swallows a failing shared-import hook silently.

Network mode (``SERVER_COVERAGE_CONNECT`` and ``SERVER_COVERAGE_TOKEN`` instead of our control
socket: a server started by something else, in a container or on another host): the same start,
rotation and fork handling, in a private temporary folder of its own (its config: ``source`` =
``SERVER_COVERAGE_SOURCE`` or the working folder); each flush is answered over TCP with the delta
converted in the process (``_server_coverage_network.py``). The server is not ours: no signal
handler, no save at exit (it would have nowhere to go), no stop when the collector goes away.

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
# Network mode: a server we did not start, reporting to a collector over TCP (see
# _server_coverage_network.py). Its folders are our own, in a private temporary folder.
NETWORK = not SOCKET_PATH and bool(os.environ.get('SERVER_COVERAGE_CONNECT'))
CONFIG_FILE = os.environ.get('SERVER_COVERAGE_PY_CONFIG')
STATE_DIR = os.environ.get('SERVER_COVERAGE_PY_STATE')
READY_DIR = os.environ.get('SERVER_COVERAGE_PY_READY')
# Test-only: a folder that receives a copy of every data file the network agent sent.
KEEP_DATA_DIR = os.environ.get('SERVER_COVERAGE_PY_KEEP_DATA')
# Test-only: a folder where a test holds one process at a point of its exit path (see _test_pause).
TEST_PAUSE_DIR = os.environ.get('SERVER_COVERAGE_PY_TEST_PAUSE')
SAVE_INTERVAL_S = float(os.environ.get('SERVER_COVERAGE_PY_SAVE_INTERVAL') or 5)
ORPHAN_EXIT_S = 5.0
# How long an exit path waits for a save in progress in another thread.
EXIT_SAVE_TIMEOUT_S = 10.0
# What rotating needs from Coverage.py's CoverageData (5.0 to 7.x have them).
DATA_INTERNALS = ('_reset', '_choose_filename', '_has_arcs', '_has_lines', '_pid', '_lock')

_cov = None
_save_lock = threading.Lock()
# The process that registered (and so saves); None in the uWSGI master, which never saves.
_control_pid = None
# Names this process's ready files uniquely, even if its pid is reused later in the run.
_process_tag = '%d.%d' % (os.getpid(), time.time_ns())
_sequence = 0
_held_for_fork = False
# Network mode: the private folder, and the process that made it (forks share it; it removes it at exit).
_network_base = None
_network_root_pid = None
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
        at=time.time() * 1000,
    )
    path = os.path.join(STATE_DIR, '%s-%d.json' % (kind, os.getpid()))
    try:
        with open(path + '.tmp', 'w') as handle:
            json.dump(fields, handle)
        os.replace(path + '.tmp', path)
    except OSError:
        pass


def _network_setup():
    """Network mode: our own private folders and Coverage.py config (the collector is elsewhere)."""
    global CONFIG_FILE, STATE_DIR, READY_DIR, _network_base, _network_root_pid
    import tempfile
    base = tempfile.mkdtemp(prefix='server-coverage-agent-')
    here = os.path.dirname(os.path.abspath(__file__))
    # What to measure: SERVER_COVERAGE_SOURCE (folders, os.pathsep-separated), else the folder the
    # server starts in (a container's WORKDIR). Third-party code never.
    sources = [os.path.abspath(entry) for entry in (os.environ.get('SERVER_COVERAGE_SOURCE') or os.getcwd()).split(os.pathsep) if entry]
    listed = lambda items: ''.join('\n    %s' % item for item in items)  # noqa: E731
    config = '\n'.join([
        '[run]',
        'branch = True',
        'parallel = True',
        'data_file = %s' % os.path.join(base, 'data', '.coverage'),
        'source =%s' % listed(sources),
        'omit =%s' % listed(['*/dist-packages/*', '*/site-packages/*', '*/node_modules/*', here + '/*']),
        'disable_warnings = no-data-collected, module-not-measured, module-not-imported, couldnt-parse',
        '',
    ])
    for folder in ('data', 'state', 'ready'):
        os.mkdir(os.path.join(base, folder), 0o700)
    CONFIG_FILE = os.path.join(base, 'coveragerc')
    with open(CONFIG_FILE, 'w') as handle:
        handle.write(config)
    STATE_DIR = os.path.join(base, 'state')
    READY_DIR = os.path.join(base, 'ready')
    _network_base = base
    _network_root_pid = os.getpid()


def start(host):
    """Starts Coverage.py in this process (once); returns it, or None after writing an error marker."""
    global _cov
    if _cov is not None:
        return _cov
    if NETWORK:
        try:
            _network_setup()
        except OSError as error:
            sys.stderr.write('server-coverage: the network agent could not make its temporary folder (%s): this server sends no coverage\n' % error)
            return None
    elif not (SOCKET_PATH and CONFIG_FILE and STATE_DIR and READY_DIR):
        return None
    try:
        import coverage
    except Exception as error:  # ImportError, or a broken install (C tracer built for another Python)
        write_marker('error', code='COVERAGE_MISSING', host=host, message='%s: %s' % (type(error).__name__, error))
        if NETWORK:  # nobody reads the markers: say it where the server's operator looks
            sys.stderr.write('server-coverage: %s (%s) cannot import Coverage.py (%s: %s): this server sends no coverage. '
                             'Install it for that Python (Debian: apt-get install python3-coverage; otherwise pip install coverage).\n'
                             % (sys.executable, sys.version.split()[0], type(error).__name__, error))
        return None
    try:
        cov = coverage.Coverage(config_file=CONFIG_FILE, data_suffix=True)
        cov.start()
        # (Not get_data(): that would save what ran so far, in a process that may never save.)
        missing = [name for name in DATA_INTERNALS if not hasattr(getattr(cov, '_data', None), name)]
        if missing:
            cov.stop()
            raise RuntimeError('this Coverage.py has no %s (server-coverage supports Coverage.py 5.0 to 7.x)' % ', '.join(missing))
    except Exception as error:
        write_marker('error', code='COVERAGE_FAILED', host=host, message='%s: %s' % (type(error).__name__, error))
        if NETWORK:
            sys.stderr.write('server-coverage: Coverage.py could not start (%s: %s): this server sends no coverage\n' % (type(error).__name__, error))
        return None
    _cov = cov
    tracer = getattr(cov._collector, 'tracer_name', lambda: 'unknown')()
    write_marker('started', host=host, coverage=coverage.__version__, tracer=tracer,
                 coverage_path=os.path.dirname(coverage.__file__))
    if NETWORK:
        # Nothing to save at exit: what ran since the last flush has nowhere to go (as for the
        # Node agent); only our temporary files are removed.
        atexit.register(_network_cleanup)
    else:
        # Python's own exit hook: a fallback when the host's (uwsgi.atexit) is replaced by the app.
        atexit.register(final_save)
    return cov


def _own_prefix():
    return '.coverage.%s.%s.' % (socket.gethostname(), _process_tag)


def own_ready_files():
    """Network mode: the ready files this process wrote (forks share the folder), oldest first."""
    prefix = _own_prefix()
    try:
        names = [name for name in os.listdir(READY_DIR) if name.startswith(prefix)]
    except OSError:
        return []
    return [os.path.join(READY_DIR, name) for name in sorted(names, key=lambda name: int(name.rsplit('.', 1)[1]))]


def discard(files):
    """Network mode: removes files that were sent (a copy first to SERVER_COVERAGE_PY_KEEP_DATA, for tests)."""
    for path in files:
        if KEEP_DATA_DIR:
            try:
                import shutil
                shutil.copyfile(path, os.path.join(KEEP_DATA_DIR, os.path.basename(path)))
            except OSError:
                pass
        try:
            os.remove(path)
        except OSError:
            pass


def _network_cleanup():
    """Network mode, at exit: this process's files go (unsent: nowhere to send them); the process that made the folder removes it."""
    files = own_ready_files()
    try:
        files.append(_cov._data.data_filename())
    except Exception:
        pass
    for path in files:
        try:
            os.remove(path)
        except OSError:
            pass
    if _network_base and _network_root_pid == os.getpid():
        import shutil
        shutil.rmtree(_network_base, ignore_errors=True)


def _fresh_data_file(data):
    """Points ``data`` at a new, not yet created file of this process (closes the previous one)."""
    data._reset()
    data._has_arcs = data._has_lines = False
    data._pid = os.getpid()
    data._choose_filename()


def _test_pause(point):
    """Test-only: holds this process at ``point`` when ``<SERVER_COVERAGE_PY_TEST_PAUSE>/<pid>`` names it.

    Says so in ``<pid>.paused`` and waits (at most 10 s) for ``<pid>.resume``, so a test can send a
    signal exactly there. Points: ``exit`` (a ``multiprocessing`` child's work ended, before its exit
    save), ``exit-save`` (inside the exit save: the data is in its file, not yet in the ready folder).
    """
    if not TEST_PAUSE_DIR:
        return
    base = os.path.join(TEST_PAUSE_DIR, str(os.getpid()))
    try:
        with open(base) as handle:
            if handle.read().strip() != point:
                return
        open(base + '.paused', 'w').close()
    except OSError:
        return
    deadline = time.monotonic() + 10
    while not os.path.exists(base + '.resume') and time.monotonic() < deadline:
        time.sleep(0.005)


def _rotate(at_exit=False):
    """Saves what ran since the previous save into a ready file of its own. Call with ``_save_lock`` held."""
    global _sequence
    error = None
    for _ in range(3):
        try:
            data = _cov.get_data()
            break
        except RuntimeError as caught:
            # A tracer of another thread grew a set while Coverage.py copied it: retry (adding
            # arcs again is harmless, they are a set).
            error = caught
        except Exception as caught:
            return '%s: %s' % (type(caught).__name__, caught)
    else:
        return str(error)
    if at_exit:
        _test_pause('exit-save')
    try:
        with data._lock:
            path = data.data_filename()
            written = os.path.exists(path)
            _fresh_data_file(data)
            if written:
                _sequence += 1
                os.replace(path, os.path.join(READY_DIR, '.coverage.%s.%s.%d' % (socket.gethostname(), _process_tag, _sequence)))
    except Exception as caught:
        return '%s: %s' % (type(caught).__name__, caught)
    return None


def save(timeout=-1, at_exit=False):
    """Rotates this process's data (see the module doc). Returns an error string or None."""
    if _cov is None:
        return 'coverage is not running in this process'
    if _control_pid != os.getpid():
        return None  # not a registered process (the uWSGI master): it never saves
    # A bounded wait on the exit paths: a stop signal may arrive in the thread that holds the lock
    # (the main thread, inside before_fork).
    if not _save_lock.acquire(timeout=timeout):
        return 'a save in progress did not finish within %s s' % timeout
    try:
        return _rotate(at_exit)
    finally:
        _save_lock.release()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
# The stop signals that save first while at their default (handle_stop_signals).
SAVE_FIRST_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
# ``signal.signal`` itself: handle_stop_signals wraps the module's.
_set_handler = signal.signal
# True where sitecustomize runs (not uWSGI, whose stop signals are handled in C, out of Python's sight).
_python_stop_signals = False
# Stop signals that arrived during the exit save, acted on once it is complete.
_held_signals = []


def handle_stop_signals():
    """(sitecustomize) SIGTERM and SIGHUP at their default save first, then kill: now, and whenever set back to it.

    Setting them back is common: asyncio does it when its loop closes (``remove_signal_handler``
    puts back ``SIG_DFL``, not the handler it replaced). A uvicorn ``--workers`` worker stopped by
    Ctrl+C closes its loop and heads for its exit save, while its supervisor SIGTERMs every worker
    in turn (``terminate()``, each once the previous one has exited): a SIGTERM that landed in
    between killed the worker outright, and what it ran after the flush (its shutdown handler) was
    lost. So ``signal.signal(SIGTERM or SIGHUP, SIG_DFL)`` installs ``save_and_die`` instead.
    """
    global _python_stop_signals
    _python_stop_signals = True
    for signum in SAVE_FIRST_SIGNALS:
        if signal.getsignal(signum) == signal.SIG_DFL:
            _set_handler(signum, save_and_die)
    if getattr(signal.signal, '_server_coverage', False):
        return

    def set_handler(signalnum, handler):
        if handler == signal.SIG_DFL and signalnum in SAVE_FIRST_SIGNALS:
            handler = save_and_die
        return _set_handler(signalnum, handler)

    set_handler.__doc__ = _set_handler.__doc__
    set_handler.__wrapped__ = _set_handler
    set_handler._server_coverage = True
    signal.signal = set_handler


def final_save():
    """Stops tracing, saves, and leaves an ``exited`` marker: the exit path of a process. Safe to call twice.

    A stop signal that arrives meanwhile acts once the save is complete, as its handler would have.
    """
    held = _exit_save()
    if held is None:
        return
    signum, handler = held
    if handler is save_and_die or handler == signal.SIG_DFL:
        _die(signum)
    elif callable(handler):
        handler(signum, sys._getframe())


def _exit_save():
    """``final_save`` up to its end: returns ``(signal, its handler)`` for a stop signal held meanwhile, or None."""
    if _cov is None or _control_pid != os.getpid() or NETWORK:
        return None
    # uWSGI exits from inside its signal handler; a second stop signal (the group's SIGTERM plus
    # the master's SIGINT) would re-enter exit() in the middle of this save and deadlock in malloc.
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    except (OSError, ValueError):
        pass
    # The mask keeps stop signals out of this thread only. Another thread (the app's, a thread
    # pool's) still takes them, then Python runs their handler here, between two lines of the save:
    # a KeyboardInterrupt cut the save short, ``save_and_die`` waited for the lock this thread holds
    # and gave up, and at its default the signal killed the process; each time the data never
    # reached the ready folder. So while it runs, every stop signal only is noted.
    handlers = _hold_stop_signals()
    try:
        try:
            _cov.stop()
        except Exception:
            pass
        save(timeout=EXIT_SAVE_TIMEOUT_S, at_exit=True)
        # Tells the collector this process saved on its way out (a process without it was killed).
        write_marker('exited')
    finally:
        for signum, handler in handlers.items():
            try:
                _set_handler(signum, handler)
            except (OSError, ValueError, TypeError):
                pass
    held = [signum for signum in _held_signals if signum in handlers]
    del _held_signals[:]
    return (held[0], handlers[held[0]]) if held else None


def _hold_stop_signals():
    """Replaces the stop signals' handlers by one that notes the signal; returns those it replaced."""
    if not _python_stop_signals or threading.current_thread() is not threading.main_thread():
        return {}  # (Python sets handlers from the main thread only.)
    handlers = {}
    for signum in STOP_SIGNALS:
        handler = signal.getsignal(signum)
        # (None: a handler set outside Python, which Python could not put back.)
        if handler is None or handler is _note_signal or handler == signal.SIG_IGN:
            continue
        try:
            _set_handler(signum, _note_signal)
        except (OSError, ValueError):
            continue
        handlers[signum] = handler
    return handlers


def _note_signal(signum, frame):
    _held_signals.append(signum)


def save_and_die(signum, frame):
    """A handler for a stop signal the process left at its default: save, then die of it, as it would have.

    Nothing of the app runs after the signal (no ``finally``, no ``atexit``), exactly as without
    us: only our save is added. (Coverage.py's own ``sigterm = true`` did not save in 6.5 when
    threads ran, coveragepy#1599, fixed in 7.2.3; this path does not use it.)
    """
    _exit_save()  # (a second stop signal during it changes nothing: this one kills the process)
    _die(signum)


def _die(signum):
    _set_handler(signum, signal.SIG_DFL)
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
    except (OSError, ValueError):
        pass
    os.kill(os.getpid(), signum)


def _stop_orphaned_uvicorn_supervisor(process, code):
    """A uvicorn worker that could not load the app: stop the supervisor that would wait for it forever.

    uvicorn's ``--workers`` supervisor (``supervisors/multiprocess.py`` before 0.30) never looks at
    its workers again once started: when none of them can import the app, it keeps the socket open
    and nothing answers. Only for that case (the worker's config never loaded): its parent gets a
    SIGTERM, the stop it handles, so the server ends with uvicorn's own error on its output.
    """
    target = getattr(process, '_target', None)
    config = (getattr(process, '_kwargs', None) or {}).get('config')
    if not code or getattr(target, '__module__', '') not in ('uvicorn.subprocess', 'uvicorn._subprocess'):
        return
    if getattr(config, 'loaded', True) is not False:
        return
    sys.stderr.write('server-coverage: a uvicorn worker could not load the app (exit code %s); its supervisor (pid %d) '
                     'would wait for it forever, so it is stopped\n' % (code, os.getppid()))
    sys.stderr.flush()
    try:
        os.kill(os.getppid(), signal.SIGTERM)
    except OSError:
        pass


def patch_multiprocessing():
    """Saves when a ``multiprocessing`` child's work ends.

    A forked child (the default start method on Linux: hypercorn's workers) leaves through
    ``os._exit`` right after ``BaseProcess._bootstrap`` returns, so neither ``atexit`` nor any exit
    hook runs: without this its data would be lost. (A spawned child, uvicorn's workers, exits
    through ``sys.exit`` and saves again at ``atexit``: a second save finds nothing new.)
    """
    try:
        from multiprocessing import process
    except Exception:
        return
    original = process.BaseProcess._bootstrap
    if getattr(original, '_server_coverage', False):
        return

    def _bootstrap(self, *args, **kwargs):
        code = 1
        try:
            code = original(self, *args, **kwargs)
            return code
        finally:
            _test_pause('exit')
            try:
                final_save()
            finally:
                _stop_orphaned_uvicorn_supervisor(self, code)

    _bootstrap._server_coverage = True
    process.BaseProcess._bootstrap = _bootstrap


def before_fork():
    """``os.register_at_fork(before=…)``: no save in progress while the process forks (the child gets a clean state).

    Nothing is saved here: the child drops what it inherited (``start_child``), the parent keeps it
    for its next save. Saving here would run Python code for milliseconds inside ``os.fork()``,
    where an exception a signal handler raises (gunicorn's arbiter raises ``HaltServer`` from its
    SIGCHLD handler when a worker fails to boot) is swallowed as "ignored" by the fork machinery.
    """
    global _held_for_fork
    if _cov is None or _control_pid != os.getpid():
        return
    _held_for_fork = _save_lock.acquire(timeout=EXIT_SAVE_TIMEOUT_S)


def after_fork_in_parent():
    global _held_for_fork
    if _held_for_fork:
        _held_for_fork = False
        _save_lock.release()


def start_child(keep_inherited):
    """In a forked child: a new identity and data file; drops the inherited unsaved data unless told to keep it."""
    global _save_lock, _held_for_fork, _process_tag, _sequence
    _save_lock = threading.Lock()
    _held_for_fork = False
    _process_tag = '%d.%d' % (os.getpid(), time.time_ns())
    _sequence = 0
    if _cov is None:
        return
    try:
        if not keep_inherited:
            _cov._collector._clear_data()
        if _cov._data is not None:
            _fresh_data_file(_cov._data)
    except Exception:
        pass


def claim_inherited(boot_id):
    """True for the first child that claims ``boot_id`` (an atomic create in the state dir)."""
    try:
        os.close(os.open(os.path.join(STATE_DIR, 'inherited-%s' % boot_id), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return True
    except OSError:
        return False


def trace_this_thread():
    """Installs Coverage's tracer in a thread that ``threading.settrace`` never reached (C-created)."""
    trace = threading.gettrace()
    if trace is not None and sys.gettrace() is None:
        sys.settrace(trace)


def _send(sock, message):
    sock.sendall((json.dumps(message) + '\n').encode())


def _process_argv():
    """How the collector names this process in messages (like the Node agent's script and first argument)."""
    if sys.argv[:1] != ['-c']:
        return sys.argv[:2]
    # A spawned multiprocessing child (uvicorn's workers) starts as `python -c … --multiprocessing-fork`.
    program = os.path.basename(sys.executable)
    return [program, 'multiprocessing worker' if '--multiprocessing-fork' in sys.argv else '-c']


def _register(pid, argv):
    """Connects to the collector and says hello, in the calling thread; None when there is no collector."""
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(SOCKET_PATH)
        _send(sock, {'t': 'hello', 'pid': pid, 'ppid': os.getppid(), 'threadId': 0, 'argv': argv})
        return sock
    except OSError:
        return None  # no collector (stale env): stay out of the way


def _control_loop(pid, sock):
    # This thread is ours, not the app's: never trace it, and leave stop signals to the main thread
    # (a handler that exits must not run here, mid-save).
    sys.settrace(None)
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
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
                    reply = {'t': 'flushed', 'id': message.get('id'), 'at': time.time() * 1000}
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
    """Registers this process with the collector (call once per process): over the local socket before this returns, over the network from the daemon thread that then answers flushes and saves."""
    global _control_pid
    if _cov is None or not (SOCKET_PATH or NETWORK) or _control_pid == os.getpid():
        return
    _control_pid = os.getpid()
    if NETWORK:
        target = _network_module().run
        args = (sys.modules[__name__], os.getpid(), _process_argv())
    else:
        # Registered before this returns, not from the thread: a worker that serves a request before
        # a thread of its own got the GIL to connect (seen on 2 loaded cores) would miss the next
        # flush, and that read would lack what it ran. A local socket connects at once.
        sock = _register(os.getpid(), _process_argv())
        if sock is None:
            return
        target = _control_loop
        args = (os.getpid(), sock)
    # (argv now: a spawned child replaces sys.argv with its parent's soon after.)
    thread = threading.Thread(target=target, args=args, name='server-coverage', daemon=True)
    thread.start()


def _network_module():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # (see sitecustomize)
    try:
        import _server_coverage_network
    finally:
        sys.path.pop(0)
        sys.dont_write_bytecode = previous
    return _server_coverage_network


_root_pid = os.getpid()
