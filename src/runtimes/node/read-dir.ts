import type { NodeCoverageFile, ProcessCov, ScriptCov, SourceMapCacheEntry } from '../../coverage/v8-types.js'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mergeProcessCovs } from '@bcoe/v8-coverage'
import { parseCoverageFile } from './parse-file.js'

/** Decides whether a server script (absolute path) is worth keeping. */
export type ScriptFilter = (path: string, hasSourceMap: boolean) => boolean

/** What one read of the coverage directory produced. */
export interface CoverageRead {
  /** The filtered scripts of every file read, merged as they were read (memory stays at the merged size). */
  processCov: ProcessCov
  /** Source maps of the kept scripts, keyed by normalised `file://` URL. */
  sourceMaps: Record<string, SourceMapCacheEntry>
  /** Distinct `pid` and `pid/threadId` seen in the files read. */
  pids: Set<number>
  threads: Set<string>
  /** Files read this time. */
  files: number
  /** Files that could not be parsed once the server had stopped (truncated or corrupt). */
  corrupt: string[]
  /** Files that did not parse yet while the server runs (being written, or truncated): left for later. */
  pending: string[]
}

const FILE_NAME = /^coverage-(\d+)-(\d+)-(\d+)\.json$/

/**
 * Strips the query and hash that ESM cache-busting adds (`m.mjs?v=1`), so the same file from
 * several imports merges into one script.
 */
export function normaliseUrl(url: string): string {
  const cut = url.search(/[?#]/)
  return cut === -1 ? url : url.slice(0, cut)
}

/** Keeps only the scripts a report can use: on-disk files outside `node_modules` that `filter` accepts. */
export function filterProcessCov(file: NodeCoverageFile, filter: ScriptFilter): { processCov: ProcessCov; sourceMaps: Record<string, SourceMapCacheEntry> } {
  const cache = file['source-map-cache'] ?? {}
  const result: ScriptCov[] = []
  const sourceMaps: Record<string, SourceMapCacheEntry> = {}
  for (const scriptCov of file.result) {
    if (!scriptCov.url.startsWith('file://') || scriptCov.url.includes('/node_modules/')) continue
    const url = normaliseUrl(scriptCov.url)
    const entry = cache[scriptCov.url] ?? cache[url]
    let path: string
    try {
      path = fileURLToPath(url)
    } catch {
      continue
    }
    if (!filter(path, Boolean(entry?.data))) continue
    result.push(url === scriptCov.url ? scriptCov : { ...scriptCov, url })
    if (entry?.data) sourceMaps[url] = entry
  }
  return { processCov: { result }, sourceMaps }
}

/**
 * Reads the V8 coverage files of a server incrementally: each file is read once (files written by
 * `takeCoverage` are deltas, so nothing is counted twice across reads). A file that does not parse
 * yet is being written by a process that is exiting right now: it is left for the next read, unless
 * `final` says the server has stopped, in which case it is reported as corrupt.
 */
export class CoverageDirReader {
  readonly dir: string
  readonly #consumed = new Set<string>()
  /** `pid/threadId` → time (ms, from the file name) of the newest file read for it. */
  readonly latestWrite = new Map<string, number>()

  constructor(dir: string) {
    this.dir = dir
  }

  #noteWrite(thread: string, ms: number): void {
    this.latestWrite.set(thread, Math.max(this.latestWrite.get(thread) ?? 0, ms))
  }

  async read(filter: ScriptFilter, final: boolean): Promise<CoverageRead> {
    const read: CoverageRead = { processCov: { result: [] }, sourceMaps: {}, pids: new Set(), threads: new Set(), files: 0, corrupt: [], pending: [] }
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch {
      return read
    }
    for (const name of names.sort()) {
      const match = FILE_NAME.exec(name)
      if (!match || this.#consumed.has(name)) continue
      let file: NodeCoverageFile
      try {
        file = parseCoverageFile(await readFile(join(this.dir, name), 'utf8'))
        if (!Array.isArray(file.result)) throw new Error('no "result" array')
      } catch {
        if (final) {
          this.#consumed.add(name)
          read.corrupt.push(name)
          // The process did write (a full disk truncates, a crash does not leave half files):
          // do not report it as killed before writing.
          this.#noteWrite(`${match[1]}/${match[3]}`, Number(match[2]))
        } else {
          read.pending.push(name)
        }
        continue
      }
      this.#consumed.add(name)
      read.files++
      read.pids.add(Number(match[1]))
      const thread = `${match[1]}/${match[3]}`
      read.threads.add(thread)
      this.#noteWrite(thread, Number(match[2]))
      const { processCov, sourceMaps } = filterProcessCov(file, filter)
      read.processCov = mergeProcessCovs([read.processCov, processCov])
      Object.assign(read.sourceMaps, sourceMaps)
    }
    return read
  }
}
