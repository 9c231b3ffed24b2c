import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { ReportFilter } from '../coverage/filter.js'
import type { ScriptCov, SourceMapCacheEntry } from '../coverage/v8-types.js'
import type { AgentProcess, NetworkOptions } from '../launch/control-server.js'
import type { ResolvedServerOptions } from '../options.js'

// The one contract every runtime (node, python, the next one) implements. The session wires
// folders, the control channel, launch, flush, read, stop and close, and never asks which runtime
// it holds: everything runtime-specific is behind these few members.

/** What a runtime is given to prepare one server. */
export interface RuntimeContext {
  options: ResolvedServerOptions
  /** The server's private folder (mode 0700): put data files here. */
  dir: string
  /** The control socket every server process registers with (one protocol for every runtime). */
  socketPath: string
  /** False when the runner does not collect coverage: the server runs, nothing is measured. */
  coverage: boolean
  log: (line: string) => void
}

/** Raw V8 coverage: scripts merged across processes and checkpoints, with what converting them needs. */
export interface V8Coverage {
  format: 'v8'
  scripts: ScriptCov[]
  /** Node's source maps of the kept scripts, by `file://` URL. */
  sourceMaps: Record<string, SourceMapCacheEntry>
  /** Folders where the agent saved code that existed only in memory (tsx): `<sha1 of url>.js`. */
  sourcesDirs: string[]
}

/** Coverage a runtime already describes the istanbul way (Coverage.py), with absolute paths. */
export interface IstanbulCoverage {
  format: 'istanbul'
  data: CoverageMapData
  /**
   * What a count means: `executions` (how many times it ran; data of several reads or servers add
   * up) or `hits` (ran or not, 0/1, as Coverage.py records: several reads or servers combine as
   * "ran in any", the way `coverage combine` does). @default 'executions'
   */
  counts?: 'executions' | 'hits'
}

/** Coverage in the form its runtime produces it: plain, serialisable data. */
export type RawCoverage = V8Coverage | IstanbulCoverage

/** What one read returned: what ran since the previous read, nothing counted twice. */
export interface RuntimeRead {
  /** In the runtime's own form; a runtime that gathers several forms (the network collector) gives one part per form. */
  coverage: RawCoverage | RawCoverage[]
  /** Distinct processes (and worker threads) whose data is in this read. */
  processes: number
  /** Data files read. */
  files: number
}

/** What the session tells a runtime when it reads. */
export interface ReadRequest {
  /**
   * The server has stopped: read everything that is left, and name files that cannot be read
   * (while it runs, a file that does not parse yet is being written and waits for the next read).
   */
  final: boolean
  /** Which files are reported: the early script filter and the final path filter. */
  filter: ReportFilter
  /** Every process that registered on the control channel, live or gone (for "what was lost"). */
  agents: readonly AgentProcess[]
}

/**
 * A runtime: how a server gets coverage (`env`), how the session proves it is on (`verify`) and
 * how its data is read (`read`). Flushing goes over the control channel, the same for every
 * runtime: when `read` is called, every live process has acknowledged that its data is on disk.
 */
export interface Runtime {
  /** Environment added to the server's spawn env (with coverage off too: e.g. how uWSGI must stop). */
  readonly env: Record<string, string>
  /** After the server is ready: throw `COVERAGE_UNAVAILABLE` if coverage is not really on. */
  verify(): Promise<void>
  /** Returns what ran since the previous read (a delta), filtered; never the same data twice. */
  read(request: ReadRequest): Promise<RuntimeRead>
  /**
   * When set, the runtime starts no server: its control channel listens on TCP for network agents
   * (servers started by something else) instead of a private Unix socket.
   */
  readonly network?: NetworkOptions
}

/** Builds a runtime for one server. */
export type RuntimeFactory = (context: RuntimeContext) => Promise<Runtime>
