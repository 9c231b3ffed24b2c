/**
 * The agent: preloaded (`NODE_OPTIONS=--require …/preload.cjs`) into every Node process and
 * worker thread of a server under coverage. Built-ins only, never keeps the event loop alive.
 *
 * It does three things:
 * 1. registers the process with the collector over the control socket (`SERVER_COVERAGE_SOCKET`),
 *    so the collector knows every live process and can wait for each one's flush;
 * 2. answers `flush` with a guarded `v8.takeCoverage()` and an acknowledgement: the file is fully
 *    written when `takeCoverage` returns, so the collector may read it after the ack;
 * 3. turns SIGTERM/SIGINT/SIGHUP into a normal exit (which makes V8 write its last file) when the
 *    app has no listener of its own; when it has one, the app's graceful shutdown runs untouched.
 *
 * If the control socket closes without the collector saying goodbye, the test runner died: the
 * process stops itself (through the same signal path, so the app's shutdown still runs), which is
 * what guarantees no server outlives a SIGKILLed runner.
 *
 * With `SERVER_COVERAGE_COUNTING=load` (the `counting: 'load'` option) V8 coverage is off: the
 * main thread instruments the included files as they load and writes their counts in V8's format
 * on `flush` and at exit instead (./counting.cts).
 *
 * Protocol: newline-delimited JSON. agent → collector `hello`, `flushed`; collector → agent
 * `welcome`, `flush`, `bye`.
 */
import type { Session } from 'node:inspector'
import fs = require('node:fs')
import net = require('node:net')
import workerThreads = require('node:worker_threads')
import lines = require('./lines.cjs')

const { onLines } = lines

// `node:crypto`, `node:inspector`, `node:os` and `node:v8` are required where they are used: every process
// of the server loads this file before the app, under block coverage, and those modules are only
// needed for code that exists only in memory (tsx), on stop signals and at a flush (bench/RESULTS.md, start-up).

const socketPath = process.env.SERVER_COVERAGE_SOCKET
/** Counting on load: the folder V8 would write to (the main thread writes there instead). */
const countingDir = process.env.SERVER_COVERAGE_COUNTING === 'load' ? process.env.SERVER_COVERAGE_V8_DIR : undefined
let counting: typeof import('./counting.cjs') | undefined
const sourcesDir = process.env.SERVER_COVERAGE_SOURCES
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const
/** How long an orphaned server may take to shut down gracefully before it exits anyway. */
const ORPHAN_EXIT_MS = 5000

let lastCoverageWriteMs = 0

/**
 * V8 names coverage files `coverage-<pid>-<ms>-<threadId>.json`: two writes within the same
 * millisecond overwrite each other. Spin (at most ~2 ms) until the clock moved past the last write.
 */
function waitForNewMillisecond(): void {
  while (Date.now() <= lastCoverageWriteMs + 1) {
    // busy-wait on purpose: this runs in synchronous exit paths where timers cannot run
  }
}

/**
 * Loaders such as tsx run code that exists only in memory; V8 coverage offsets refer to that code,
 * and an exact conversion needs it. The only way to read it is the inspector's Debugger domain,
 * and `Debugger.disable` drops V8's block counters for every later call (functions fall back to
 * function-level counts, verified on Node 20 and 24) — so the session is enabled once, before any
 * app script loads, and never disabled. That is only done when the process runs a loader or a
 * TypeScript entry point: plain JavaScript servers never pay for it.
 */
function runsInMemoryCode(): boolean {
  const ourFlag = `--require ${JSON.stringify(__filename)}`
  const flags = [...process.execArgv, (process.env.NODE_OPTIONS ?? '').split(ourFlag).join(' ')].join(' ')
  return /(^|\s)(--import|--loader|--experimental-loader|--require|-r)(\s|=)/.test(flags) || /\.[mc]?tsx?$/.test(process.argv[1] ?? '')
}

/** url → scriptId of app scripts with a source map, seen by the Debugger session. */
const mappedScripts = new Map<string, string>()
const savedSources = new Set<string>()
let sourceSession: Session | undefined

function watchScripts(): void {
  sourceSession = new (require('node:inspector') as typeof import('node:inspector')).Session()
  sourceSession.connect()
  sourceSession.on('Debugger.scriptParsed', ({ params }) => {
    if (params.sourceMapURL && params.url.startsWith('file://') && !params.url.includes('/node_modules/')) {
      mappedScripts.set(params.url, params.scriptId)
    }
  })
  sourceSession.post('Debugger.enable')
  // An enabled debugger would stop on `debugger;` statements with nobody to resume: never pause.
  sourceSession.post('Debugger.setSkipAllPauses', { skip: true })
}

/** Saves each mapped script whose executed code differs from its file, as `<sha1 of url>.js`. */
function saveTransformedSources(dir: string): void {
  const session = sourceSession
  if (!session) return
  for (const [url, scriptId] of mappedScripts) {
    if (savedSources.has(url)) continue
    savedSources.add(url)
    session.post('Debugger.getScriptSource', { scriptId }, (error, result) => {
      if (error || !result) return
      let onDisk: string | undefined
      try {
        onDisk = fs.readFileSync(new URL(url), 'utf8')
      } catch {
        // not on disk: save it
      }
      if (onDisk === result.scriptSource) return
      const name = `${(require('node:crypto') as typeof import('node:crypto')).createHash('sha1').update(url).digest('hex')}.js`
      try {
        fs.writeFileSync(`${dir}/${name}`, result.scriptSource, { flag: 'wx' })
      } catch {
        // another process of the server saved the same script first
      }
    })
  }
}

function takeCoverage(): void {
  if (sourcesDir) saveTransformedSources(sourcesDir)
  waitForNewMillisecond()
  if (counting && countingDir) {
    const ms = Date.now()
    counting.write(countingDir, ms, workerThreads.threadId)
    lastCoverageWriteMs = ms
    return
  }
  // Counting on load leaves worker threads uncounted: nothing to write, an acknowledgement only.
  // (`node:v8` costs ~1.5 ms to load in every process at start-up: loaded at the first flush.)
  if (!countingDir) (require('node:v8') as typeof import('node:v8')).takeCoverage()
  lastCoverageWriteMs = Date.now()
}

function installSignalHandlers(): void {
  for (const signal of STOP_SIGNALS) {
    process.on(signal, function serverCoverageSignal() {
      // Another listener means the app handles this signal (graceful shutdown): defer to it.
      if (process.listenerCount(signal) > 1) return
      process.exit(128 + ((require('node:os') as typeof import('node:os')).constants.signals[signal] ?? 15))
    })
  }
}

/** At exit V8 writes a last file: its scripts' sources must be saved, and its name must not collide. Counting on load writes its own. */
function onExit(): void {
  if (sourcesDir) saveTransformedSources(sourcesDir)
  waitForNewMillisecond()
  if (counting && countingDir) {
    try {
      counting.write(countingDir, Date.now(), workerThreads.threadId)
    } catch {
      // Like V8's own exit write: a full disk loses the data, the exit goes on (the collector names the process).
    }
  }
}

function stopOrphan(): void {
  if (!workerThreads.isMainThread) return
  setTimeout(() => process.exit(0), ORPHAN_EXIT_MS).unref()
  process.kill(process.pid, 'SIGTERM')
}

function connect(path: string): void {
  const socket = net.createConnection(path)
  let welcomed = false
  let saidBye = false
  socket.on('connect', () => {
    const hello = {
      t: 'hello',
      pid: process.pid,
      ppid: process.ppid,
      threadId: workerThreads.threadId,
      argv: process.argv.slice(1, 3),
    }
    socket.write(`${JSON.stringify(hello)}\n`)
    socket.unref()
  })
  onLines(socket, (message) => {
    if (message.t === 'flush') {
      let error: string | undefined
      try {
        takeCoverage()
      } catch (cause) {
        error = String(cause)
      }
      // `at` lets the collector tell a later exit-time file from this one (see waitForNewMillisecond).
      socket.write(`${JSON.stringify({ t: 'flushed', id: message.id, error, at: lastCoverageWriteMs })}\n`)
    } else if (message.t === 'welcome') {
      welcomed = true
    } else if (message.t === 'bye') {
      saidBye = true
    }
  })
  // A collector that is gone is not an error for the app: never throw from here.
  socket.on('error', () => {})
  socket.on('close', () => {
    // Never welcomed means we never reached a collector (stale env): stay out of the way.
    if (welcomed && !saidBye) stopOrphan()
  })
}

if (process.env.SERVER_COVERAGE_CONNECT) {
  // A server we did not start: the network agent (./remote.cts) does everything instead.
  require('./remote.cjs')
} else if (process.env.SERVER_COVERAGE_HOOKS_THREAD === '1') {
  // The thread Node starts for our own load hook (counting on load) runs this preload too: not a server thread.
} else if (socketPath) {
  if (countingDir && workerThreads.isMainThread) {
    counting = require('./counting.cjs') as typeof import('./counting.cjs')
    counting.start()
  }
  if (sourcesDir && runsInMemoryCode()) watchScripts()
  if (workerThreads.isMainThread) installSignalHandlers()
  process.on('exit', onExit)
  connect(socketPath)
}
