import type { NodeCoverageFile, ProcessCov, ScriptCov, SourceMapCacheEntry } from '../../coverage/v8-types.js'
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mergeProcessCovs } from '../../coverage/merge-v8.js'
import { normaliseUrl, parseCoverageFile, type ParsedMaps } from './parse-file.js'

export { normaliseUrl }

/** Decides whether a server script (absolute path) is worth keeping. */
export type ScriptFilter = (path: string, hasSourceMap: boolean) => boolean

/** What one read of the coverage directory produced. */
export interface CoverageRead {
  /** The filtered scripts of every file read, merged across files (normalised, sorted by URL). */
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


/** Keeps only the scripts a report can use: on-disk files outside `node_modules` that `filter` accepts. */
export function filterProcessCov(file: NodeCoverageFile, filter: ScriptFilter): { processCov: ProcessCov; sourceMaps: Record<string, SourceMapCacheEntry> } {
  return keepScripts(file, urlFilter(filter))
}

/**
 * `filter` by URL, remembered: the same scripts come back in every file of every process, and
 * deciding (URL → path → globs) for each copy was a tenth of a 16-worker read (bench/).
 */
function urlFilter(filter: ScriptFilter): (url: string, hasSourceMap: boolean) => boolean {
  const decided = new Map<string, boolean>()
  return (url, hasSourceMap) => {
    const key = `${hasSourceMap ? 1 : 0}${url}`
    let keep = decided.get(key)
    if (keep === undefined) {
      try {
        keep = filter(fileURLToPath(normaliseUrl(url)), hasSourceMap)
      } catch {
        keep = false
      }
      decided.set(key, keep)
    }
    return keep
  }
}

function keepScripts(file: NodeCoverageFile, keep: (url: string, hasSourceMap: boolean) => boolean): { processCov: ProcessCov; sourceMaps: Record<string, SourceMapCacheEntry> } {
  const cache = file['source-map-cache'] ?? {}
  const result: ScriptCov[] = []
  const sourceMaps: Record<string, SourceMapCacheEntry> = {}
  for (const scriptCov of file.result) {
    if (!scriptCov.url.startsWith('file://') || scriptCov.url.includes('/node_modules/')) continue
    const url = normaliseUrl(scriptCov.url)
    const entry = cache[scriptCov.url] ?? cache[url]
    if (!keep(url, Boolean(entry?.data))) continue
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
  /**
   * One buffer for every file read, grown to the largest: a buffer per file (0.1–0.5 MB each,
   * every collection) left the allocator holding freed memory, and the collector's RSS grew over
   * watch-mode collections (bench/). Nothing parsed from it keeps a reference to it.
   */
  #buffer = Buffer.alloc(0)
  /** Source maps parsed by earlier files of this reader (parse-file.ts `ParsedMaps`). */
  readonly #parsedMaps: ParsedMaps = new Map()

  constructor(dir: string) {
    this.dir = dir
  }

  /** The bytes of `path`, in the shared buffer (valid until the next call). Synchronous on purpose: hundreds of small files read through the thread pool one await at a time cost more in round trips than the reads themselves (bench/). */
  #readFile(path: string): Buffer {
    const fd = openSync(path, 'r')
    try {
      const size = fstatSync(fd).size
      if (this.#buffer.length < size) this.#buffer = Buffer.allocUnsafe(Math.max(size, this.#buffer.length * 2))
      let length = 0
      while (length < size) {
        const count = readSync(fd, this.#buffer, length, size - length, length)
        if (count === 0) break
        length += count
      }
      return this.#buffer.subarray(0, length)
    } finally {
      closeSync(fd)
    }
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
    // Each script's copies are merged into it as files are read (memory stays at the merged size),
    // one script at a time: merging each file into everything read so far re-normalised every
    // kept script once per file. Pairwise and in file order, as before, because the range layout
    // of a merge depends on its grouping and line-based converters (v8-to-istanbul, Jest) read
    // layouts differently.
    const byUrl = new Map<string, ScriptCov>()
    const keepUrl = urlFilter(filter)
    for (const name of names.sort()) {
      const match = FILE_NAME.exec(name)
      if (!match || this.#consumed.has(name)) continue
      let file: NodeCoverageFile
      try {
        file = parseCoverageFile(this.#readFile(join(this.dir, name)), keepUrl, this.#parsedMaps)
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
      const { processCov, sourceMaps } = keepScripts(file, keepUrl)
      for (const scriptCov of processCov.result) {
        const merged = byUrl.get(scriptCov.url)
        byUrl.set(scriptCov.url, merged ? mergeProcessCovs([{ result: [merged, scriptCov] }]).result[0]! : scriptCov)
      }
      Object.assign(read.sourceMaps, sourceMaps)
    }
    read.processCov = mergeProcessCovs([{ result: [...byUrl.values()] }])
    return read
  }
}
