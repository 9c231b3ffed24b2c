import type { ListenableServer } from './resolve-handler.js'
import cluster from 'node:cluster'
import { createServer } from 'node:http'
import process from 'node:process'
import { pathToFileURL } from 'node:url'
import { AppResolveError, pickExport, resolveHandler } from './resolve-handler.js'

/**
 * The app host: serves a user's HTTP app module from an N-worker `node:cluster`, the way uWSGI
 * hosts a WSGI callable. Env: SERVER_COVERAGE_APP (absolute module path), SERVER_COVERAGE_APP_EXPORT
 * (optional), SERVER_COVERAGE_WORKERS (default 1), PORT, HOST (default 127.0.0.1),
 * SERVER_COVERAGE_HOST_SHUTDOWN_MS (default 10000).
 *
 * Every process exits *naturally* on SIGTERM/SIGINT/SIGHUP: a process killed by a signal never
 * writes its NODE_V8_COVERAGE file, and the launcher signals the whole process group, so the
 * primary and each worker install handlers. Dead workers are logged, never respawned: a crash
 * must show up in the test run, not be papered over.
 */

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const
const log = (message: string): void => void process.stderr.write(`server-coverage host: ${message}\n`)

interface HostConfig {
  appPath: string
  exportName: string | undefined
  workers: number
  port: number
  host: string
  shutdownMs: number
}

function readConfig(env: NodeJS.ProcessEnv): HostConfig {
  const integer = (name: string, fallback: number | undefined, min: number, max: number): number => {
    const raw = env[name]
    if ((raw === undefined || raw === '') && fallback !== undefined) return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw ?? null)}`)
    }
    return value
  }
  const appPath = env.SERVER_COVERAGE_APP
  if (!appPath) throw new Error('SERVER_COVERAGE_APP must be set to the absolute path of the app module')
  return {
    appPath,
    exportName: env.SERVER_COVERAGE_APP_EXPORT || undefined,
    workers: integer('SERVER_COVERAGE_WORKERS', 1, 1, 1024),
    port: integer('PORT', undefined, 0, 65535),
    host: env.HOST || '127.0.0.1',
    shutdownMs: integer('SERVER_COVERAGE_HOST_SHUTDOWN_MS', 10_000, 0, 2 ** 31 - 1),
  }
}

/** Sets the exit code and lets the process end on its own; the unref'd timer only fires if user code
 * (a timer, a DB pool created at import) keeps the loop alive, so we never hang. */
function finish(code: number, graceMs: number): void {
  process.exitCode = code
  setTimeout(() => process.exit(), graceMs).unref()
}

const importApp = (appPath: string): Promise<unknown> => import(pathToFileURL(appPath).href)

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error))

async function runPrimary(config: HostConfig): Promise<void> {
  let shuttingDown = false
  let failed = false
  // Signals may arrive while we import; handle them from the start instead of dying by default.
  const shutdown = (): void => {
    if (shuttingDown) return
    shuttingDown = true
    setTimeout(() => {
      log(`workers still running after ${config.shutdownMs}ms; forcing exit`)
      process.exit(1)
    }, config.shutdownMs).unref()
    // disconnect(): the worker closes its servers, in-flight requests finish, then it exits by itself.
    for (const worker of Object.values(cluster.workers ?? {})) if (worker?.isConnected()) worker.disconnect()
  }
  for (const signal of SIGNALS) process.on(signal, shutdown)

  // Validate in the primary (import + shape check, without calling factories) so a broken module is
  // one clear error and exit 1, instead of N workers failing in parallel.
  try {
    pickExport(await importApp(config.appPath), config.appPath, config.exportName)
  } catch (error) {
    log(error instanceof AppResolveError ? error.message : `cannot import app module ${config.appPath}: ${errorText(error)}`)
    return finish(1, 1000)
  }
  if (shuttingDown) return finish(0, 1000)

  const alive = new Set<number>()
  const listening = new Set<number>()
  let ready = false
  // Sending to a worker that just exited fails asynchronously (EPIPE); an unhandled 'error' would crash us.
  cluster.on('fork', (worker) =>
    worker.on('error', (error: Error) => void (shuttingDown || log(`worker ${worker.process.pid}: ${errorText(error)}`))),
  )
  cluster.on('listening', (worker, address) => {
    // With a fixed PORT, ignore other servers the app itself may open (e.g. a metrics port).
    if (config.port !== 0 && address.port !== config.port) return
    listening.add(worker.id)
    if (!ready && listening.size === config.workers) {
      ready = true
      const host = config.host.includes(':') ? `[${config.host}]` : config.host
      log(`${config.workers} workers listening on http://${host}:${address.port}`)
    }
  })
  cluster.on('exit', (worker, code, signal) => {
    alive.delete(worker.id)
    if (code !== 0 || signal) failed = true
    if (!shuttingDown) {
      log(`worker ${worker.process.pid} exited unexpectedly (code ${code}, signal ${signal}); not respawning`)
      // A worker lost before all are listening is a startup failure (bad factory, EADDRINUSE…).
      if (!ready) {
        failed = true
        shutdown()
      }
    }
    if (alive.size === 0) finish(failed ? 1 : 0, 1000)
  })
  for (let i = 0; i < config.workers; i++) alive.add(cluster.fork().id)
}

async function runWorker(config: HostConfig): Promise<void> {
  let server: ListenableServer | undefined
  let closing = false
  const close = (): void => {
    if (closing) return
    closing = true
    setTimeout(() => process.exit(), config.shutdownMs).unref()
    // The IPC channel to the primary is what would keep us alive after the server closes. Unref it
    // instead of disconnecting: the primary disconnects us on the same group-wide signal, and two
    // disconnects from both ends race (EPIPE / ERR_IPC_DISCONNECTED crash one side).
    process.channel?.unref()
    if (server?.listening) {
      server.close() // stop accepting; in-flight requests finish
      server.closeIdleConnections?.() // keep-alive sockets would otherwise hold close() open
    }
  }
  for (const signal of SIGNALS) process.on(signal, close)

  try {
    const resolved = await resolveHandler(await importApp(config.appPath), config.appPath, config.exportName)
    server = resolved.kind === 'server' ? resolved.server : createServer(resolved.handler)
  } catch (error) {
    log(`worker ${process.pid}: ${error instanceof AppResolveError ? error.message : errorText(error)}`)
    process.exitCode = 1
    return close()
  }
  if (closing) return
  const listeningServer = server
  // close() only drops connections idle *at that moment*; a keep-alive connection whose request was
  // in flight turns idle when its response ends, and would then hold the worker until keepAliveTimeout.
  listeningServer.on('request', (_req: unknown, res: NodeJS.EventEmitter) =>
    res.once('finish', () => listeningServer.listening || setImmediate(() => listeningServer.closeIdleConnections?.())),
  )
  listeningServer.on('error', (error: NodeJS.ErrnoException) => {
    if (listeningServer.listening) return log(`worker ${process.pid}: server error: ${errorText(error)}`)
    log(`cannot listen on ${config.host}:${config.port}: ${error.code ?? errorText(error)}`)
    process.exitCode = 1
    close()
  })
  listeningServer.listen(config.port, config.host, () => {
    // A signal that arrived while listen() was pending must still close the server.
    if (closing) listeningServer.close()
  })
}

let config: HostConfig
try {
  config = readConfig(process.env)
} catch (error) {
  log(errorText(error))
  process.exit(1)
}
await (cluster.isPrimary ? runPrimary(config) : runWorker(config))
