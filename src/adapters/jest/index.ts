import type { ServerOptions } from '../../options.js'

export type { ServerOptions, GracefulShutdown } from '../../options.js'

/** What a `server-coverage.config.{js,cjs,mjs,json}` file (or package.json `"serverCoverage"`) holds. */
export type ServerCoverageConfig = ServerOptions | ServerOptions[]

/**
 * Types the server options of the Jest integration; returns them unchanged. The options are the
 * same as the Vitest plugin's: one server, or an array of servers with a `name` each.
 *
 * @example
 * // server-coverage.config.mjs, next to jest.config.js
 * import { defineConfig } from 'server-coverage/jest'
 * export default defineConfig({ command: 'node server.js', url: '/health' })
 */
export function defineConfig<T extends ServerCoverageConfig>(config: T): T {
  return config
}

export default defineConfig
