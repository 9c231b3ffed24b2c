import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { ParseFn } from './coverage/convert.js'
import type { ServerScope } from './coverage/filter.js'
import type { RawCoverage } from './runtimes/types.js'
import { toIstanbul } from './coverage/convert.js'
import { reportFilter } from './coverage/filter.js'
import { mergeInto } from './coverage/merge-into.js'
import { defaultParser } from './coverage/parse.js'
import { plural, unmatchedMessage } from './messages.js'

/** Options of a read: the runner's own say in which files are reported. */
export interface ReadOptions {
  /**
   * The runner's "is this file reported?" (Vitest's coverage include/exclude, Jest's
   * `collectCoverageFrom`): decides for servers without their own `include`/`exclude`.
   */
  filter?: (path: string) => boolean
}

/** Options of a collection. */
export interface CollectOptions extends ReadOptions {
  /** JavaScript parser for the V8 → istanbul conversion; the host runner's own gives identical maps. @default oxc-parser where it loads, else acorn (coverage/parse.ts) */
  parse?: ParseFn
}

/** One server's part of a read, in its runtime's own form (plain data). */
export interface ServerRead {
  name: string
  /** What `reportFilter` needs to decide the files of this server (with the runner's predicate). */
  scope: ServerScope
  coverage: RawCoverage
}

/** What a read produced: what ran since the previous read, per server, unconverted. */
export interface SessionRead {
  servers: ServerRead[]
  processes: number
  files: number
  /** Server processes that did not acknowledge the flush (their data since their last flush is missing). */
  unanswered: number
}

/** What a collection produced. */
export interface Collected {
  /** Istanbul data of the server files, keyed by absolute path. */
  data: CoverageMapData
  processes: number
  files: number
  /** Server processes that did not acknowledge the flush (their data since their last flush is missing). */
  unanswered: number
}

/**
 * What every front end holds: servers it started itself (`ServerCoverageSession`) or the servers of
 * a running `server-coverage serve` it attached to (`AttachedSession`). Each read returns what ran
 * since the previous read of this holder.
 */
export interface CoverageSession {
  /** Base URL of each server by name, in start order. */
  readonly urls: Record<string, string>
  /** Asks every live server process to save its coverage so far; never rejects. */
  checkpoint(): Promise<void>
  /** Flushes and reads what ran since the previous read, unconverted (per server, in its runtime's form). */
  read(options?: ReadOptions): Promise<SessionRead>
  /** `read`, converted to istanbul data and filtered by the one rule. */
  collect(options?: CollectOptions): Promise<Collected>
  /**
   * Ends the session: stops the servers it started (an attached session detaches and leaves them
   * running). With `collect`, returns what ran since the previous read, flushed before anything stops.
   */
  stop(options?: CollectOptions & { collect?: boolean }): Promise<Collected | undefined>
}

/**
 * The convert stage of a read: each server's raw coverage to istanbul data (V8 once per script),
 * its files filtered by the one rule, and several servers' parts added by the one merge rule.
 */
export async function convertRead(read: SessionRead, options: CollectOptions, startedAt: number, log: (line: string) => void): Promise<Collected> {
  const data: CoverageMapData = {}
  for (const server of read.servers) {
    const conversion = await toIstanbul(server.coverage, options.parse ?? (await defaultParser()))
    for (const failure of conversion.failed) log(`could not convert ${failure.path}: ${failure.reason} (left out of the report)`)
    for (const { path, reason } of conversion.unmapped) log(`${path}: ${reason}; reported as the file that ran`)
    const { accepts } = reportFilter(server.scope, options.filter)
    const kept = Object.fromEntries(Object.entries(conversion.data).filter(([file]) => accepts(file)))
    const counts = server.coverage.format === 'istanbul' ? (server.coverage.counts ?? 'executions') : 'executions'
    for (const [file, count] of mergeInto(data, kept, counts)) log(unmatchedMessage(file, count, "another server's map of it"))
  }
  const files = Object.keys(data).length
  log(`collected coverage from ${plural(read.processes, 'process')}, ${plural(files, 'file')} in ${Date.now() - startedAt} ms`)
  return { data, processes: read.processes, files: read.files, unanswered: read.unanswered }
}
