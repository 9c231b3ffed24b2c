/**
 * The network agent: in the processes of a server that server-coverage did NOT start (docker
 * compose, pm2, another host), loaded by the same preload (`NODE_OPTIONS="--require
 * server-coverage/agent"`) when `SERVER_COVERAGE_CONNECT=<host>:<port>` is set, with
 * `SERVER_COVERAGE_TOKEN`. Built-ins only.
 *
 * - Coverage: V8 precise block coverage started through the inspector's Profiler before any app
 *   code (the process was not started with NODE_V8_COVERAGE, and needs no shared folder): each
 *   flush takes it (which resets V8's counters: a delta) and keeps the app's own scripts.
 * - Transport: registers over TCP with the token; on `flush` sends the delta as JSON chunks on
 *   that connection (never whole in memory twice, never blocking: writes wait for `drain`), then
 *   `flushed` with its size and a hash of each file (the collector maps paths by content).
 * - Never in the way: a collector that is gone is retried with backoff (0.5 s doubling to 30 s);
 *   every socket and timer is unref'd; no signal handler, no exit hook: the server is not ours.
 */
import crypto = require('node:crypto')
import fs = require('node:fs')
import inspector = require('node:inspector')
import net = require('node:net')
import os = require('node:os')
import url = require('node:url')
import workerThreads = require('node:worker_threads')
import lines = require('./lines.cjs')

const { onLines } = lines

const CHUNK_CHARS = 64 * 1024
const MAX_BACKOFF_MS = 30_000

interface ScriptCoverage {
  url: string
  functions: unknown[]
}

const connectTo = process.env.SERVER_COVERAGE_CONNECT ?? ''
const token = process.env.SERVER_COVERAGE_TOKEN ?? ''
const separator = connectTo.lastIndexOf(':')
const host = connectTo.slice(0, separator).replace(/^\[|\]$/g, '') || '127.0.0.1'
const port = Number(connectTo.slice(separator + 1))

const profiler = new inspector.Session()
profiler.connect()
profiler.post('Profiler.enable')
profiler.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true })

const hashes = new Map<string, string>()
/** Our own files (this agent) are never the app's. */
const OWN_FOLDER = url.pathToFileURL(__dirname).href + '/'

/** Takes V8's counts since the previous take (the session's callbacks run synchronously). */
function takeCoverage(): ScriptCoverage[] {
  let scripts: ScriptCoverage[] = []
  profiler.post('Profiler.takePreciseCoverage', (error, result) => {
    if (!error && result) scripts = result.result as unknown as ScriptCoverage[]
  })
  return scripts.filter((script) => script.url.startsWith('file://') && !script.url.includes('/node_modules/') && !script.url.startsWith(OWN_FOLDER))
}

/** sha1 of each script's file here, once per file: the collector finds the same file in its checkout. */
function hashesOf(scripts: ScriptCoverage[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const script of scripts) {
    let path: string
    try {
      path = url.fileURLToPath(script.url)
    } catch {
      continue
    }
    if (!hashes.has(path)) {
      try {
        hashes.set(path, crypto.createHash('sha1').update(fs.readFileSync(path)).digest('hex'))
      } catch {
        hashes.set(path, '')
      }
    }
    const hash = hashes.get(path)
    if (hash) out[path] = hash
  }
  return out
}

function write(socket: net.Socket, message: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (socket.write(`${JSON.stringify(message)}\n`)) resolve()
    else socket.once('drain', () => resolve())
  })
}

async function sendCoverage(socket: net.Socket, id: number): Promise<void> {
  const scripts = takeCoverage()
  const text = JSON.stringify({ result: scripts, timestamp: Date.now() })
  for (let offset = 0; offset < text.length && !socket.destroyed; offset += CHUNK_CHARS) {
    await write(socket, { t: 'chunk', id, data: text.slice(offset, offset + CHUNK_CHARS) })
  }
  await write(socket, { t: 'flushed', id, at: Date.now(), payload: { format: 'v8', bytes: Buffer.byteLength(text), hashes: hashesOf(scripts) } })
}

let backoffMs = 500

function connect(): void {
  const socket = net.connect({ host, port })
  socket.setNoDelay(true)
  socket.unref()
  socket.on('connect', () => {
    const hello = { t: 'hello', token, pid: process.pid, ppid: process.ppid, threadId: workerThreads.threadId, argv: process.argv.slice(1, 3), host: os.hostname(), runtime: 'node', protocol: 1 }
    socket.write(`${JSON.stringify(hello)}\n`)
  })
  onLines(socket, (message) => {
    if (message.t === 'welcome') backoffMs = 500
    else if (message.t === 'flush' && typeof message.id === 'number') {
      const id = message.id
      void sendCoverage(socket, id).catch(() => socket.destroy())
    }
  })
  // A collector that is gone or refuses us is never an error for the app.
  socket.on('error', () => {})
  socket.on('close', () => {
    const delay = backoffMs
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS)
    setTimeout(connect, delay + Math.floor(Math.random() * 100)).unref()
  })
}

if (Number.isInteger(port) && port > 0) connect()
