import type { ChildProcess } from 'node:child_process'
import type { HostConfig, HostFailureCode, HostMessage } from '../host/protocol.js'
import type { ResolvedServerOptions } from '../options.js'
import { HOST_CONFIG_ENV, hostShutdownMs } from '../host/protocol.js'
import { waitForReady } from './ready.js'

/**
 * The launcher's side of the `app` host: the one environment variable that configures it, and
 * what the host says over its IPC channel. "Ready" for an app means every worker listens — the
 * host counts them — not that some process answered a probe.
 */

/** The environment entry that configures the host for these options. */
export function hostEnv(options: ResolvedServerOptions, port: number): Record<string, string> {
  const config: HostConfig = {
    app: options.app ?? '',
    appExport: options.appExport,
    workers: options.workers,
    port,
    host: '127.0.0.1',
    shutdownMs: hostShutdownMs(options.gracefulShutdown.timeout),
  }
  return { [HOST_CONFIG_ENV]: JSON.stringify(config) }
}

/** How the host's start ended, as far as its channel tells. */
export type HostOutcome =
  | { t: 'ready'; listening: number; total: number }
  | { t: 'failed'; code: HostFailureCode; message: string }
  /** The channel closed (the host exited or could not start) without a word. */
  | { t: 'gone' }

/** Watches a spawned host's IPC channel. `progress` tells how many workers listen so far. */
export function watchHost(child: ChildProcess): { outcome: Promise<HostOutcome>; progress: () => { listening: number; total: number } | undefined } {
  let progress: { listening: number; total: number } | undefined
  const outcome = new Promise<HostOutcome>((resolve) => {
    const onMessage = (message: HostMessage): void => {
      if (message.t === 'progress') {
        progress = { listening: message.listening, total: message.total }
        return
      }
      done(message.t === 'ready' ? { t: 'ready', listening: message.listening, total: message.total } : message)
    }
    const onGone = (): void => done({ t: 'gone' })
    function done(result: HostOutcome): void {
      // Without listeners the channel no longer keeps the runner's event loop alive.
      child.off('message', onMessage).off('disconnect', onGone)
      resolve(result)
    }
    // 'disconnect', never 'exit': the channel closes after its last message was read, while the
    // exit can be seen before a failure message sent just before it.
    child.on('message', onMessage).once('disconnect', onGone)
  })
  return { outcome, progress: () => progress }
}

/** How waiting for a host ended. */
export type HostReadiness =
  | HostOutcome
  /** The deadline passed; `listening` workers of `total` were listening (`probe`: all were, the `url` probe never passed). */
  | { t: 'timeout'; listening: number; total: number | undefined; probe: boolean }

/**
 * Waits until the host says every worker listens, then (when the user gave a `url`) until that
 * probe passes too; or until the host fails, goes away, or `deadline` passes.
 */
export async function waitForHost(child: ChildProcess, probe: (() => Promise<boolean>) | undefined, deadline: number, signal: AbortSignal): Promise<HostReadiness> {
  const host = watchHost(child)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()))))
  const outcome = await Promise.race([host.outcome, timeout]).finally(() => clearTimeout(timer))
  if (outcome === 'timeout') return { t: 'timeout', listening: host.progress()?.listening ?? 0, total: host.progress()?.total, probe: false }
  if (outcome.t !== 'ready' || !probe) return outcome
  if (await waitForReady(probe, deadline, signal)) return outcome
  return signal.aborted ? { t: 'gone' } : { t: 'timeout', listening: outcome.listening, total: outcome.total, probe: true }
}
