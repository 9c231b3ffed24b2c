/**
 * What the launcher and the app host exchange. The launcher passes the whole host configuration in
 * ONE environment variable (JSON), never as separate user-facing knobs; the host answers over the
 * IPC channel the launcher opened (`stdio[3] = 'ipc'`): once every worker listens, or once, with
 * the first error, when it cannot start. Workers talk to the primary over the cluster's own IPC
 * channel with tagged messages, so an app's own `process.send` traffic is never mistaken for ours.
 */

/** The environment variable holding the JSON `HostConfig`. */
export const HOST_CONFIG_ENV = 'SERVER_COVERAGE_HOST'

/** Everything the host needs, decided by the launcher from the resolved options. */
export interface HostConfig {
  /** Absolute path of the user's app module. */
  app: string
  /** The export to serve; undefined tries the module itself, `default`, `app`, `handler`. */
  appExport: string | undefined
  workers: number
  /** The port every worker listens on (the launcher's, also given to the app as `PORT`). */
  port: number
  host: string
  /**
   * Milliseconds the host gives its workers to finish after a stop signal before it forces them
   * (and itself) to exit: a little less than the session's `gracefulShutdown.timeout`, so every
   * process still exits normally, and writes its coverage, before the session's SIGKILL.
   */
  shutdownMs: number
}

/** Error codes the host reports; they are `ServerCoverageError` codes. */
export type HostFailureCode = 'APP_INVALID' | 'SERVER_EXITED' | 'PORT_IN_USE'

/** Host primary → launcher. */
export type HostMessage =
  /** One more worker listens (so a timeout can say how many did). */
  | { t: 'progress'; listening: number; total: number }
  | { t: 'ready'; listening: number; total: number; port: number }
  | { t: 'failed'; code: HostFailureCode; message: string }

/** Tag of worker → primary messages. */
export const WORKER_TAG = 'serverCoverageHost'

/** Worker → primary (inside `{ [WORKER_TAG]: message }`). */
export type WorkerMessage =
  | { t: 'listening'; port: number }
  | { t: 'failed'; code: HostFailureCode; message: string }
  /** Sent when a stop signal reached the worker, before it closes: its exit is then expected. */
  | { t: 'stopping' }

/** The worker message inside a cluster message, or undefined when it is not ours. */
export function workerMessage(message: unknown): WorkerMessage | undefined {
  if (typeof message !== 'object' || message === null || !(WORKER_TAG in message)) return undefined
  return (message as Record<string, WorkerMessage>)[WORKER_TAG]
}

/** Reads and checks the host configuration from the environment; throws a plain Error when it is unusable. */
export function readHostConfig(env: NodeJS.ProcessEnv): HostConfig {
  const raw = env[HOST_CONFIG_ENV]
  if (!raw) throw new Error(`${HOST_CONFIG_ENV} is not set: the app host is started by server-coverage, not by hand`)
  const config = JSON.parse(raw) as Partial<HostConfig>
  const integer = (key: keyof HostConfig, min: number, max: number): void => {
    const value = config[key]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${HOST_CONFIG_ENV}.${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(value ?? null)}`)
    }
  }
  if (typeof config.app !== 'string' || config.app === '') throw new Error(`${HOST_CONFIG_ENV}.app must be the absolute path of the app module`)
  integer('workers', 1, 1024)
  integer('port', 0, 65535)
  integer('shutdownMs', 0, 2 ** 31 - 1)
  return {
    app: config.app,
    appExport: typeof config.appExport === 'string' && config.appExport !== '' ? config.appExport : undefined,
    workers: config.workers as number,
    port: config.port as number,
    host: typeof config.host === 'string' && config.host !== '' ? config.host : '127.0.0.1',
    shutdownMs: config.shutdownMs as number,
  }
}

/**
 * The host's own deadline for a graceful stop, from the session's: the session SIGKILLs the group
 * `gracefulTimeoutMs` after its signal, and a SIGKILLed process writes no coverage. Leave the
 * workers a quarter of it (at most 1 s) to exit and write their coverage files.
 */
export function hostShutdownMs(gracefulTimeoutMs: number): number {
  return gracefulTimeoutMs - Math.min(1000, Math.floor(gracefulTimeoutMs / 4))
}
