"""The network agent's transport: a Python server process we did not start reports to a collector over TCP.

Runs in the agent's daemon thread (``_server_coverage_agent.connect`` in network mode, when
``SERVER_COVERAGE_CONNECT=<host>:<port>`` and ``SERVER_COVERAGE_TOKEN`` are set instead of our local
control socket). The protocol is the Node agent's (``src/agent/remote.cts``), newline-delimited
JSON:

- agent → collector ``hello`` (token, pid, ppid, argv, host, ``runtime: 'python'``, ``protocol: 1``);
  the collector answers ``welcome`` or closes the connection (a wrong token);
- collector → agent ``flush`` with an id: the agent saves (rotates what the process ran since its
  previous flush into a data file, as in local mode), converts that delta here, in the server
  process, with ``to_istanbul.convert`` (0/1 counts), and sends the JSON text of
  ``{ <absolute path here>: FileCoverageData }`` in ``chunk`` lines of at most 64 KB, then
  ``flushed`` with the text's UTF-8 size and a sha1 of each file (the collector maps paths to its
  checkout by content). An empty delta is ``bytes: 0`` with no chunk. The data files are deleted
  once the payload went out whole; a payload cut short is sent again with the next flush (Coverage.py
  counts only ran/not ran, so the collector's merge cannot count it twice).

Never in the server's way: everything happens in this daemon thread, with timeouts; a collector that
is gone or refuses us is retried with backoff (0.5 s doubling to 30 s) while the server runs, what ran
meanwhile waits in the process for the next collector, and nothing stops the server when the
connection drops (it is not ours).

Standard library only.
"""
import hashlib
import importlib.util
import json
import os
import random
import socket
import sys
import time

CHUNK_CHARS = 64 * 1024
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
CONNECT_TIMEOUT_S = 5.0
# A collector that stops reading for this long is dropped (and retried later).
SEND_TIMEOUT_S = 60.0
# How often the loop wakes up without a message (to notice that it runs in a fork).
POLL_S = 5.0

_converter = None
_hashes = {}


def parse_address(value):
    """``host:port`` (``[v6]:port``) → (host, port), or None when it is not one."""
    host, _, port = (value or '').strip().rpartition(':')
    host = host.strip('[]') or '127.0.0.1'
    try:
        port = int(port)
    except ValueError:
        return None
    return (host, port) if 0 < port < 65536 else None


def _load_converter():
    """``to_istanbul.py`` next to this file, loaded without touching ``sys.path`` (the app's)."""
    global _converter
    if _converter is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'to_istanbul.py')
        spec = importlib.util.spec_from_file_location('_server_coverage_to_istanbul', path)
        module = importlib.util.module_from_spec(spec)
        # No bytecode in the package's folder. (The flag is process-wide: an import of the app's at
        # this very moment only skips writing its cache.)
        previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True
        try:
            spec.loader.exec_module(module)
        finally:
            sys.dont_write_bytecode = previous
        _converter = module
    return _converter


def _sha1(path):
    if path not in _hashes:
        try:
            with open(path, 'rb') as handle:
                _hashes[path] = hashlib.sha1(handle.read()).hexdigest()
        except OSError:
            _hashes[path] = ''
    return _hashes[path]


def _send(sock, message):
    sock.sendall((json.dumps(message) + '\n').encode())


def _payload(agent, files):
    """The JSON text of the istanbul data in ``files`` ('' when nothing was measured) and the files' hashes."""
    if not files:
        return '', {}
    result = _load_converter().convert(agent.CONFIG_FILE, files)
    if not result['files']:
        return '', {}
    # ASCII JSON: 64 K characters are 64 KB, and the size in bytes is the length.
    text = json.dumps(result['files'], ensure_ascii=True)
    return text, {path: _sha1(path) for path in result['files'] if _sha1(path)}


def _answer_flush(agent, sock, flush_id):
    sock.settimeout(SEND_TIMEOUT_S)
    try:
        _flush_and_send(agent, sock, flush_id)
    finally:
        sock.settimeout(POLL_S)


def _flush_and_send(agent, sock, flush_id):
    error = agent.save()
    if error:
        _send(sock, {'t': 'flushed', 'id': flush_id, 'at': time.time() * 1000, 'error': error})
        return
    files = agent.own_ready_files()
    try:
        text, hashes = _payload(agent, files)
    except Exception as caught:  # data Coverage.py cannot read: say so, do not send it again
        agent.discard(files)
        _send(sock, {'t': 'flushed', 'id': flush_id, 'at': time.time() * 1000, 'error': 'could not convert the coverage data: %s: %s' % (type(caught).__name__, caught)})
        return
    for offset in range(0, len(text), CHUNK_CHARS):
        _send(sock, {'t': 'chunk', 'id': flush_id, 'data': text[offset:offset + CHUNK_CHARS]})
    payload = {'format': 'istanbul', 'bytes': len(text)}
    if hashes:
        payload['hashes'] = hashes
    _send(sock, {'t': 'flushed', 'id': flush_id, 'at': time.time() * 1000, 'payload': payload})
    agent.discard(files)  # only once all of it went out


def _session(agent, sock, pid, argv, welcomed):
    """One connection, until it closes. Calls ``welcomed()`` when the collector accepts us."""
    _send(sock, {'t': 'hello', 'token': os.environ.get('SERVER_COVERAGE_TOKEN', ''), 'pid': pid, 'ppid': os.getppid(),
                 'threadId': 0, 'argv': argv, 'host': socket.gethostname(), 'runtime': 'python', 'protocol': 1})
    buffered = b''
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            chunk = None
        if os.getpid() != pid:
            return  # a fork inherited this thread's state; it connects on its own
        if chunk == b'':
            return
        if not chunk:
            continue
        buffered += chunk
        while b'\n' in buffered:
            line, buffered = buffered.split(b'\n', 1)
            try:
                message = json.loads(line)
            except ValueError:
                continue
            kind = message.get('t') if isinstance(message, dict) else None
            if kind == 'welcome':
                welcomed()
            elif kind == 'flush':
                _answer_flush(agent, sock, message.get('id'))


def run(agent, pid, argv):
    """The daemon thread's body: connect, serve flushes, reconnect with backoff; never raises."""
    address = parse_address(os.environ.get('SERVER_COVERAGE_CONNECT'))
    if address is None:
        sys.stderr.write('server-coverage: SERVER_COVERAGE_CONNECT=%r is not <host>:<port>; this process sends no coverage\n'
                         % os.environ.get('SERVER_COVERAGE_CONNECT'))
        return
    backoff = [FIRST_BACKOFF_S]

    def welcomed():
        backoff[0] = FIRST_BACKOFF_S

    while os.getpid() == pid:
        sock = None
        try:
            sock = socket.create_connection(address, timeout=CONNECT_TIMEOUT_S)
            sock.settimeout(POLL_S)
            _session(agent, sock, pid, argv, welcomed)
        except Exception:
            pass  # refused, reset, timed out: the collector is gone (for now)
        finally:
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        if os.getpid() != pid:
            return
        time.sleep(backoff[0] + random.random() * 0.1)
        backoff[0] = min(backoff[0] * 2, MAX_BACKOFF_S)
