// The ways of running the example server that the benchmarks compare. Each launcher returns
// { url, pgid, stop() }; every server listens on 127.0.0.1 only and runs in its own process group.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import http from 'node:http'
import { createServer } from 'node:net'
import { childPids, signalGroup, waitGroupGone } from './procs.js'
import { BENCH, dist, EXAMPLE } from './paths.js'
import { serverPrefix } from './pin.js'
import { sleep } from './stats.js'

/** A free loopback port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** GET url → status code, or 0 when nothing answers. */
export function probe(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 1000 }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on('timeout', () => request.destroy())
    request.on('error', () => resolve(0))
  })
}

/** Polls `url` every 10 ms (the session's own probe interval) until it answers 2xx. */
export async function waitReady(url, child, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  let exited = false
  child?.once('exit', () => (exited = true))
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server exited before it was ready (${url})`)
    const status = await probe(url)
    if (status >= 200 && status < 400) return
    await sleep(10)
  }
  throw new Error(`server not ready within ${timeoutMs} ms (${url})`)
}

/**
 * Spawns `node <script>` detached (its own process group) with `env`, waits for /health. With
 * `pin`, the group runs on the server's core (lib/pin.js).
 */
export async function spawnServer({ node, script, cwd, workers, env = {}, keepOutput = false, pin = false, nodeArgs = [] }) {
  const port = await freePort()
  const startedAt = performance.now()
  const [file, ...args] = [...(pin ? serverPrefix() : []), node, ...nodeArgs, script]
  const child = spawn(file, args, {
    cwd,
    env: { ...process.env, NODE_OPTIONS: '', ...env, PORT: String(port), WORKERS: String(workers) },
    detached: true,
    stdio: ['ignore', keepOutput ? 'inherit' : 'ignore', keepOutput ? 'inherit' : 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)))
  const url = `http://127.0.0.1:${port}`
  try {
    await waitReady(`${url}/health`, child)
  } catch (error) {
    signalGroup(child.pid, 'SIGKILL')
    throw new Error(`${error.message}\n${stderr}`)
  }
  const readyMs = performance.now() - startedAt
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return {
    url,
    pgid: child.pid,
    readyMs,
    async stop(signal = 'SIGTERM') {
      signalGroup(child.pid, signal)
      await waitGroupGone(child.pid)
      await Promise.race([exited, sleep(1000)])
    },
  }
}

/** The example server (or a copy in `cwd`) without any coverage. */
export function bare(node, workers, { cwd = EXAMPLE, pin = false } = {}) {
  return spawnServer({ node, script: join(cwd, 'server.js'), cwd, workers, pin })
}

/** The example server under plain NODE_V8_COVERAGE (c8's mechanism), written to a temp dir. */
export async function plainV8(node, workers, { cwd = EXAMPLE, pin = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-v8-'))
  const server = await spawnServer({ node, script: join(cwd, 'server.js'), cwd, workers, env: { NODE_V8_COVERAGE: dir }, pin })
  return {
    ...server,
    async stop() {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The example server with V8 precise coverage started through the inspector in `mode` (see v8-mode-preload.cjs). */
export function v8Mode(node, workers, mode, { cwd = EXAMPLE, pin = false } = {}) {
  return spawnServer({
    node,
    script: join(cwd, 'server.js'),
    cwd,
    workers,
    env: { NODE_OPTIONS: `--require ${JSON.stringify(join(BENCH, 'lib', 'v8-mode-preload.cjs'))}`, BENCH_V8_MODE: mode },
    pin,
  })
}

/** The nyc-instrumented copy of the example (see app-copy.js `nycCopy`). */
export function nycInstrumented(node, workers, copyDir, { pin = false } = {}) {
  return spawnServer({ node, script: join(copyDir, 'server.js'), cwd: copyDir, workers, pin })
}

/**
 * The server under server-coverage: `startServerCoverage` (NODE_V8_COVERAGE + the agent through
 * NODE_OPTIONS), exactly what the Vitest plugin sets up. `session` is returned for collect().
 */
export async function underServerCoverage(node, workers, { cwd = EXAMPLE, script = 'server.js', include = ['**'], env = {}, pin = false, counting = 'v8' } = {}) {
  const { startServerCoverage } = await dist('index.js')
  const startedAt = performance.now()
  const command = [...(pin ? serverPrefix() : []), node, script].join(' ')
  const session = await startServerCoverage(
    { command, cwd, url: '/health', env: { ...env, WORKERS: String(workers), NODE_OPTIONS: '' }, include, counting },
    { root: cwd, log: () => {} },
  )
  const readyMs = performance.now() - startedAt
  // The session spawns the server directly (taskset execs node in place): its pid is the group id.
  const [pgid] = childPids(process.pid, script)
  return {
    url: session.urls.server,
    pgid,
    readyMs,
    session,
    async stop() {
      await session.stop()
    },
  }
}

/**
 * The server under server-coverage with the shipped `counting: 'load'` option, set up exactly as the
 * `server-coverage` row: no V8 coverage; the agent instruments the included files as they load.
 */
export function countingOnLoad(node, workers, options = {}) {
  return underServerCoverage(node, workers, { ...options, counting: 'load' })
}
