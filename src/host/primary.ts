import type { Worker } from 'node:cluster'
import type { HostFailure } from './failures.js'
import type { HostConfig, HostMessage } from './protocol.js'
import cluster from 'node:cluster'
import { relative } from 'node:path'
import process from 'node:process'
import { moduleLabel, typeScriptFailure, workerExitFailure } from './failures.js'
import { typeScriptExecArgv } from './load-app.js'
import { workerMessage } from './protocol.js'

/**
 * The cluster primary of the app host. It never loads the app (only resolves which TypeScript
 * loader the workers need): it forks the workers, counts the ones that listen, and tells the
 * launcher — over the IPC channel the launcher opened — either "every worker is listening" or the
 * FIRST failure, once. Dead workers are logged, never respawned: a crash must show up in the test
 * run, not be papered over. Started by hand (no launcher channel), it prints the same to stderr.
 */

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const
const log = (message: string): void => void process.stderr.write(`server-coverage host: ${message}\n`)

type Phase = 'starting' | 'ready' | 'failed' | 'stopping'

export function runPrimary(config: HostConfig): void {
  const label = moduleLabel(relative(process.cwd(), config.app) || config.app)
  const launcher = process.send ? (message: HostMessage) => process.send?.(message, undefined, undefined, () => {}) : undefined
  let phase: Phase = 'starting'
  let exitCode = 0
  const listening = new Set<number>()
  /** Workers that said a stop signal reached them: their exit is a stop, not a crash. */
  const stopping = new Set<number>()
  const open = new Set<Worker>()

  /** Sets the exit code and lets the process end on its own (nothing of the app runs here). */
  const finish = (): void => {
    process.exitCode = exitCode
    if (process.connected) process.disconnect()
  }

  const fail = (failure: HostFailure): void => {
    if (phase !== 'starting') return
    phase = 'failed'
    exitCode = 1
    if (launcher) launcher({ t: 'failed', ...failure })
    else log(failure.message)
    // A failed start keeps no coverage worth a graceful exit, and what the app opened at load
    // (servers, pools) would only delay it: end the other workers now.
    for (const worker of open) worker.process.kill('SIGKILL')
    if (open.size === 0) finish()
  }

  const stop = (): void => {
    if (phase === 'stopping') return
    phase = 'stopping'
    setTimeout(() => {
      log(`${open.size} worker${open.size === 1 ? '' : 's'} still running ${config.shutdownMs} ms after the stop; exiting`)
      process.exit(1)
    }, config.shutdownMs).unref()
    // disconnect(): the worker closes its servers, in-flight requests finish, then it exits by itself.
    for (const worker of open) if (worker.isConnected()) worker.disconnect()
  }
  for (const signal of SIGNALS) process.on(signal, stop)
  // The launcher's channel closes when the test runner dies: stop as the agent would.
  if (launcher) process.on('disconnect', stop)

  const onMessage = (worker: Worker, raw: unknown): void => {
    const message = workerMessage(raw)
    if (message?.t === 'stopping') stopping.add(worker.id)
    else if (message?.t === 'failed') fail(message)
    else if (message?.t === 'listening') {
      listening.add(worker.id)
      if (phase !== 'starting') return
      if (listening.size < config.workers) {
        launcher?.({ t: 'progress', listening: listening.size, total: config.workers })
        return
      }
      phase = 'ready'
      if (launcher) launcher({ t: 'ready', listening: listening.size, total: config.workers, port: message.port })
      else log(`${config.workers} workers listening on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${message.port}`)
    }
  }

  // Judged on 'close' (exit AND the IPC channel drained), never on 'exit': a worker's "stopping"
  // message may still be unread when its exit is seen, and the stop signal may reach the primary
  // after the worker's exit. Judging on 'exit' logged a normal stop as a crash (issue 10).
  const onClose = (worker: Worker, code: number | null, signal: NodeJS.Signals | null): void => {
    open.delete(worker)
    const clean = code === 0 && signal === null
    if (stopping.has(worker.id) || phase === 'stopping' || phase === 'failed') {
      if (!clean && phase !== 'failed') {
        exitCode = 1
        log(`worker ${worker.process.pid} exited with code ${code}${signal ? ` (${signal})` : ''} while stopping`)
      }
    } else if (phase === 'starting') {
      fail(workerExitFailure(label, worker.process.pid, code, signal, listening.has(worker.id)))
    } else {
      exitCode = 1
      log(`worker ${worker.process.pid} exited unexpectedly (code ${code}, signal ${signal}); not respawning`)
    }
    if (open.size === 0) finish()
  }

  let execArgv: string[]
  try {
    execArgv = typeScriptExecArgv(config.app)
  } catch (error) {
    return fail(typeScriptFailure(label, error))
  }
  cluster.setupPrimary({ execArgv: [...process.execArgv, ...execArgv] })
  for (let i = 0; i < config.workers; i++) {
    const worker = cluster.fork()
    open.add(worker)
    // Sending to a worker that just exited fails asynchronously (EPIPE); an unhandled 'error' would crash us.
    worker.on('error', (error: Error) => void (phase === 'stopping' || log(`worker ${worker.process.pid}: ${error.message}`)))
    worker.on('message', (message: unknown) => onMessage(worker, message))
    worker.process.once('close', (code: number | null, signal: NodeJS.Signals | null) => onClose(worker, code, signal))
  }
}
