import type { HostFailure } from './failures.js'
import type { HostConfig, WorkerMessage } from './protocol.js'
import type { ListenableServer, ResolvedApp } from './resolve-handler.js'
import cluster from 'node:cluster'
import { createServer } from 'node:http'
import { relative } from 'node:path'
import process from 'node:process'
import { listenFailure, listensByItselfFailure, loadFailure, moduleLabel } from './failures.js'
import { watchListens } from './listen-watch.js'
import { loadModule } from './load-app.js'
import { WORKER_TAG } from './protocol.js'
import { isEsModule, resolveHandler } from './resolve-handler.js'

/**
 * One worker of the app host: loads the app module (here, never in the primary: its load-time
 * side effects — pools, timers, servers — belong in the processes that serve), turns its export
 * into a server, listens on the shared port, and tells the primary each step over the cluster's
 * IPC channel. A failure is SENT, not printed: the primary reports the first one once, instead of
 * N workers printing the same error.
 */

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

function send(message: WorkerMessage): void {
  // The callback swallows "channel closed": the primary may already be gone during a shutdown.
  if (process.connected) process.send?.({ [WORKER_TAG]: message }, undefined, undefined, () => {})
}

export async function runWorker(config: HostConfig): Promise<void> {
  const label = moduleLabel(relative(process.cwd(), config.app) || config.app)
  let server: ListenableServer | undefined
  let closing = false

  /** Stops serving; every process then exits by itself, which is what makes V8 write its coverage. */
  const close = (reason: 'signal' | 'primary' | 'failed'): void => {
    if (closing) return
    closing = true
    // Said before anything closes, on the channel the exit is later seen through, so the primary
    // knows this exit is a stop whatever order it sees the signals and the exit in.
    if (reason === 'signal') send({ t: 'stopping' })
    // An app that holds the loop (a timer, a pool) must not keep us past the session's SIGKILL,
    // which would lose this process's coverage: exit normally a little before it.
    setTimeout(() => {
      process.stderr.write(`server-coverage host: worker ${process.pid} still busy ${config.shutdownMs} ms after the stop; exiting\n`)
      process.exit(1)
    }, config.shutdownMs).unref()
    // The IPC channel to the primary is what would keep us alive after the server closes. Unref it
    // instead of disconnecting: the primary disconnects us on the same group-wide signal, and two
    // disconnects from both ends race (EPIPE / ERR_IPC_DISCONNECTED crash one side).
    process.channel?.unref()
    if (server?.listening) {
      server.close() // stop accepting; in-flight requests finish
      server.closeIdleConnections?.() // keep-alive sockets would otherwise hold close() open
    }
  }
  const fail = (failure: HostFailure): void => {
    send({ t: 'failed', ...failure })
    process.exitCode = 1
    close('failed')
  }
  for (const signal of SIGNALS) process.on(signal, () => close('signal'))
  // The primary disconnects us when it alone got the signal; cluster then closes our server itself.
  cluster.worker?.once('disconnect', () => close('primary'))

  let resolved: ResolvedApp
  try {
    const loaded = await watchListens(async () => {
      const module = await loadModule(config.app)
      return { esModule: isEsModule(module), app: await resolveHandler(module, label, config.appExport) }
    })
    if (loaded.listened.length > 0) return fail(listensByItselfFailure(label, loaded.listened, loaded.value.esModule, config.port))
    resolved = loaded.value.app
  } catch (error) {
    return fail(loadFailure(label, error))
  }
  if (closing) return
  const listening = resolved.kind === 'server' ? resolved.server : createServer(resolved.handler)
  server = listening
  // close() only drops connections idle *at that moment*; a keep-alive connection whose request was
  // in flight turns idle when its response ends, and would then hold the worker until keepAliveTimeout.
  listening.on('request', (_req: unknown, res: NodeJS.EventEmitter) =>
    res.once('finish', () => listening.listening || setImmediate(() => listening.closeIdleConnections?.())),
  )
  listening.on('error', (error: NodeJS.ErrnoException) => {
    if (listening.listening) return void process.stderr.write(`server-coverage host: worker ${process.pid}: server error: ${error.message}\n`)
    fail(listenFailure(config.host, config.port, error))
  })
  listening.listen(config.port, config.host, () => {
    // A signal that arrived while listen() was pending must still close the server.
    if (closing) return void listening.close()
    const address = listening.address()
    send({ t: 'listening', port: typeof address === 'object' && address ? address.port : config.port })
  })
}
