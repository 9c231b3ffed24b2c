import type { ResolvedServerOptions } from '../../options.js'
import type { CoverageSession } from '../../collect.js'
import type { JestProjectConfig } from './jest-types.js'

/** The servers of one Jest project (one `server-coverage.config` file). */
export interface ProjectServers {
  /** Upper-cased project name used in `SERVER_URL_<KEY>` (projects mode only). */
  key: string
  rootDir: string
  servers: ResolvedServerOptions[]
  session: CoverageSession
  /** The project's Jest config as known at setup, for `shouldInstrument` when no test of it ran. */
  config: JestProjectConfig | undefined
}

/** Everything the global setup, the reporter and the global teardown share in Jest's main process. */
export interface JestState {
  projects: ProjectServers[]
  /** Whether the servers run under coverage (Jest's `collectCoverage`). */
  coverage: boolean
  /** Watch mode keeps the servers across runs; each run reports what ran since the previous one. */
  watch: boolean
  /** Identifies the configuration, so a watch rerun with the same one reuses the servers. */
  fingerprint: string
  /** Environment variables we set (`SERVER_URL…`), removed again at teardown. */
  env: Record<string, string>
}

interface Holder {
  current: JestState | undefined
  /** Private folder for the v8 provider's source map files (must live until Jest's report). */
  scratchDir: string | undefined
}

const KEY = Symbol.for('server-coverage.jest')

/**
 * The process-wide holder. Jest loads the global setup through its own transform and require
 * hooks and the reporter through `require`/`import`, so the two may get different instances of
 * our modules: state lives on `globalThis` under a registered symbol instead.
 */
export function holder(): Holder {
  const slot = globalThis as unknown as Record<symbol, Holder | undefined>
  slot[KEY] ??= { current: undefined, scratchDir: undefined }
  return slot[KEY]
}
