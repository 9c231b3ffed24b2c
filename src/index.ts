import type { ServerOptions } from './options.js'
import type { SessionOptions } from './session.js'
import { resolveServers } from './options.js'
import { ServerCoverageSession } from './session.js'

export type { GracefulShutdown, ServerOptions } from './options.js'
export type { Collected, CollectOptions, ReadOptions, ServerCoverageSession } from './session.js'
export { ServerCoverageError, type ServerCoverageErrorCode } from './errors.js'

/** Options of `startServerCoverage` besides the servers. */
export interface StartOptions extends Omit<SessionOptions, 'servers'> {
  /** Resolves relative `cwd` and `app` paths. @default process.cwd() */
  root?: string
}

/**
 * Starts one or more servers under coverage and waits until they are ready: the one way to start
 * a session (the Vitest, Jest, Playwright and CLI front ends call it too).
 *
 * @example
 * const session = await startServerCoverage({ command: 'node server.js', url: '/health' })
 * // … requests against session.urls.server …
 * const { data } = await session.collect()   // istanbul CoverageMapData of what ran since the last collect
 * await session.stop()
 */
export async function startServerCoverage(servers: ServerOptions | ServerOptions[], options: StartOptions = {}): Promise<ServerCoverageSession> {
  const { root = process.cwd(), ...sessionOptions } = options
  return ServerCoverageSession.start({ ...sessionOptions, servers: resolveServers(servers, root) })
}
