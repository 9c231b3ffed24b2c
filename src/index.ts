import type { ServerOptions } from './options.js'
import type { SessionOptions } from './session.js'
import { resolveServers } from './options.js'
import { ServerCoverageSession } from './session.js'

export type { GracefulShutdown, ServerOptions, ResolvedServerOptions } from './options.js'
export type { CollectOptions, Collected, SessionOptions, V8Collected } from './session.js'
export type { ProcessCov, ScriptCov, SourceMapCacheEntry } from './coverage/v8-types.js'
export { convertScripts } from './coverage/convert.js'
export { ServerCoverageError, type ServerCoverageErrorCode } from './errors.js'
export { ServerCoverageSession } from './session.js'
export { resolveServers } from './options.js'

/**
 * Starts one or more servers under coverage and waits until they are ready.
 *
 * @example
 * const session = await startServerCoverage({ command: 'node server.js', url: '/health' })
 * // … run requests against session.urls.server …
 * const { data } = await session.collect()   // istanbul CoverageMapData
 * await session.stop()
 */
export async function startServerCoverage(
  servers: ServerOptions | ServerOptions[],
  options: Omit<SessionOptions, 'servers'> & { root?: string } = {},
): Promise<ServerCoverageSession> {
  const { root = process.cwd(), ...sessionOptions } = options
  return ServerCoverageSession.start({ ...sessionOptions, servers: resolveServers(servers, root) })
}
