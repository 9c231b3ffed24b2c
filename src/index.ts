import type { CoverageSession } from './collect.js'
import type { OpenOptions } from './open.js'
import type { ServerOptions } from './options.js'
import { openSession } from './open.js'
import { resolveServers } from './options.js'

export type { GracefulShutdown, ServerOptions } from './options.js'
export type { Collected, CollectOptions, CoverageSession, ReadOptions } from './collect.js'
export { ServerCoverageError, type ServerCoverageErrorCode } from './errors.js'

/** Options of `startServerCoverage` besides the servers. */
export interface StartOptions extends Partial<OpenOptions> {
  /** Resolves relative `cwd` and `app` paths, and is where a running serve's `.server-coverage/serve.json` is looked for. @default process.cwd() */
  root?: string
}

/**
 * Starts one or more servers under coverage and waits until they are ready — or attaches to a
 * running `server-coverage serve` (`attach` option, or `SERVER_COVERAGE_ATTACH`): the one way to
 * get a session (the Vitest, Jest, Playwright and CLI front ends go through it too).
 *
 * @example
 * const session = await startServerCoverage({ command: 'node server.js', url: '/health' })
 * // … requests against session.urls.server …
 * const { data } = await session.collect()   // istanbul CoverageMapData of what ran since the last collect
 * await session.stop()
 */
export async function startServerCoverage(servers: ServerOptions | ServerOptions[], options: StartOptions = {}): Promise<CoverageSession> {
  const { root = process.cwd(), ...rest } = options
  return openSession(resolveServers(servers, root), { ...rest, root })
}
