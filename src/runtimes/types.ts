import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { ResolvedServerOptions } from '../options.js'

/** What a runtime is given to prepare one server. */
export interface RuntimeContext {
  options: ResolvedServerOptions
  /** The server's private folder (mode 0700): put data files here. */
  dir: string
  /** The control socket every server process registers with (same protocol as the Node agent). */
  socketPath: string
  log: (line: string) => void
}

/** What one read of a runtime's saved data produced, already as istanbul data. */
export interface RuntimeRead {
  data: CoverageMapData
  processes: number
  files: number
}

/**
 * A non-Node runtime (Python): how its servers get coverage, and how their data is read. The
 * session keeps launching, readiness, flushing over the control socket and stopping the same.
 */
export interface ServerRuntime {
  /** Environment to add to the server's spawn env. */
  env: Record<string, string>
  /** After the server is ready: prove coverage is really on (throw a ServerCoverageError if not). */
  verify(): Promise<void>
  /**
   * Reads the data saved so far (after a flush round or after the server stopped, `final`), keeps
   * files `accepts` takes, and returns it as istanbul data with absolute paths.
   */
  read(final: boolean, accepts: (path: string) => boolean): Promise<RuntimeRead>
}

/** Builds a runtime for one server. */
export type RuntimeFactory = (context: RuntimeContext) => Promise<ServerRuntime>
