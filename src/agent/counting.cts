/**
 * Counting on load (`counting: 'load'`), in the main thread of a server process: instruments the
 * included plain-JavaScript files as they load (ES modules through a load hook: in this thread
 * with `module.registerHooks` where it exists, else load-hook.mts through `module.register`;
 * CommonJS through `Module.prototype._compile`),
 * keeps each file's counters, and writes what they counted since the previous write as a V8
 * coverage file (`coverage-<pid>-<ms>-<threadId>.json`, `{ result: ScriptCov[] }`) into the folder
 * V8 would use. The collector's reader, merge and converter then treat it as V8's own data.
 *
 * Worker threads are not instrumented (both hooks apply to the main thread only; the runtime says
 * so in the log).
 */
import fs = require('node:fs')
import Module = require('node:module')
import path = require('node:path')
import url = require('node:url')
import instrumentModule = require('./instrument.cjs')
import scopeModule = require('./scope.cjs')

const { COUNTERS_GLOBAL, instrumentLoaded, instrumentLoadResult } = instrumentModule

type LoadResult = ReturnType<typeof instrumentLoadResult>

/** The counters of one instrumented file (shared by every copy loaded under the same URL). */
interface CountedFile {
  counts: Uint32Array
  /** Per counter: `[start, end]`, or `[start, end, 1]` when V8 reports the range as a function of its own. */
  ranges: ([number, number] | [number, number, 1])[]
}

/** Node's `source-map-cache` entry, as V8 coverage files carry it. */
interface SourceMapEntry {
  lineLengths: number[]
  data: unknown
  url: string | null
}

const files = new Map<string, CountedFile>()
const sourceMaps = new Map<string, SourceMapEntry | undefined>()
/** Set in the environment of the thread `module.register` starts, so the agent there stays idle. */
const HOOKS_THREAD_ENV = 'SERVER_COVERAGE_HOOKS_THREAD'

/** Called by the first line of every instrumented file: its counters. */
function counters(fileUrl: string, count: number, ranges: CountedFile['ranges']): Uint32Array {
  let file = files.get(fileUrl)
  if (!file || file.counts.length !== count) files.set(fileUrl, (file = { counts: new Uint32Array(count), ranges }))
  return file.counts
}

/** Starts counting in this (main) thread: CommonJS through `_compile`, ES modules through the load hook. */
function start(): void {
  const included = scopeModule.countedFiles(process.env.SERVER_COVERAGE_SCOPE)
  ;(globalThis as Record<string, unknown>)[COUNTERS_GLOBAL] = counters
  type Compile = (this: unknown, content: string, filename: string) => unknown
  const prototype = Module.prototype as unknown as { _compile: Compile }
  const compile = prototype._compile
  prototype._compile = function serverCoverageCompile(content, filename) {
    const instrumented = path.isAbsolute(filename) ? instrumentLoaded(content, filename, undefined, included) : undefined
    return compile.call(this, instrumented ? instrumented.code : content, filename)
  }
  const hooks = Module as unknown as {
    registerHooks?: (hooks: { load: (url: string, context: unknown, nextLoad: (url: string, context: unknown) => LoadResult) => LoadResult }) => void
    register?: (specifier: string, options: { data: unknown }) => void
  }
  if (hooks.registerHooks) {
    // Node >= 22.15: hooks that run in this thread, synchronously. `module.register` starts a hooks
    // thread instead, ~30 ms more for every process of the server (measured on Node 24).
    hooks.registerHooks({ load: (fileUrl, context, nextLoad) => instrumentLoadResult(fileUrl, nextLoad(fileUrl, context), included) })
    return
  }
  const register = hooks.register
  if (!register) return
  // The hooks thread runs our preload too (Node 20): the variable, copied into its environment, keeps it idle.
  process.env[HOOKS_THREAD_ENV] = '1'
  try {
    register(url.pathToFileURL(path.join(__dirname, 'load-hook.mjs')).href, { data: { scope: process.env.SERVER_COVERAGE_SCOPE } })
  } finally {
    delete process.env[HOOKS_THREAD_ENV]
  }
}

/** Node's source-map cache entry for a counted file with a `sourceMappingURL` (tsc output), as NODE_V8_COVERAGE records it. */
function sourceMapOf(fileUrl: string): SourceMapEntry | undefined {
  if (sourceMaps.has(fileUrl)) return sourceMaps.get(fileUrl)
  let entry: SourceMapEntry | undefined
  try {
    const code = fs.readFileSync(url.fileURLToPath(fileUrl), 'utf8')
    const comments = [...code.matchAll(/\/[*/][#@]\s+sourceMappingURL=(\S+)/g)]
    const mapUrl = comments.at(-1)?.[1]
    if (mapUrl) {
      const inline = /^data:application\/json[^,]*?(;base64)?,/.exec(mapUrl)
      const text = inline
        ? inline[1] ? Buffer.from(mapUrl.slice(inline[0].length), 'base64').toString('utf8') : decodeURIComponent(mapUrl.slice(inline[0].length))
        : fs.readFileSync(new URL(mapUrl, fileUrl), 'utf8')
      entry = { lineLengths: code.split(/\n|\r\n/).map((line) => line.length), data: JSON.parse(text), url: inline ? null : new URL(mapUrl, fileUrl).href }
    }
  } catch {
    entry = undefined
  }
  sourceMaps.set(fileUrl, entry)
  return entry
}

interface RangeCov {
  startOffset: number
  endOffset: number
  count: number
}

/**
 * The counters as V8 reports block ranges: outermost first, without empty ranges (a continuation
 * after a statement that ends its block) and one range per span, with the larger count, as V8's
 * own coverage post-processing does (`FilterEmptyRanges`, `MergeDuplicateRanges`): the merge of
 * several processes' files needs properly nested ranges.
 */
function v8Ranges(ranges: CountedFile['ranges'], counts: Uint32Array): RangeCov[] {
  const sorted = ranges
    .map(([startOffset, endOffset, ownFunction], index) => ({ startOffset, endOffset, count: ownFunction ? -1 : counts[index]! }))
    .filter((range) => range.startOffset < range.endOffset && range.count >= 0)
    .sort((a, b) => a.startOffset - b.startOffset || b.endOffset - a.endOffset)
  const unique: RangeCov[] = []
  for (const range of sorted) {
    const last = unique.at(-1)
    if (last && last.startOffset === range.startOffset && last.endOffset === range.endOffset) last.count = Math.max(last.count, range.count)
    else unique.push(range)
  }
  return unique
}

/**
 * Writes what every counted file ran since the previous write as `coverage-<pid>-<ms>-<threadId>.json`
 * in `dir` (V8's layout: the reader's fast path applies), and resets the counters: each file is a
 * delta, like `v8.takeCoverage()`'s.
 */
function write(dir: string, ms: number, threadId: number): void {
  const result: unknown[] = []
  const cache: Record<string, SourceMapEntry> = {}
  for (const [fileUrl, { counts, ranges }] of files) {
    // Like V8's deltas: a script none of whose code ran since the previous write is left out.
    if (counts.every((count) => count === 0)) continue
    const functions = [{ functionName: '', ranges: v8Ranges(ranges, counts), isBlockCoverage: true }]
    ranges.forEach(([startOffset, endOffset, ownFunction], index) => {
      if (ownFunction) functions.push({ functionName: '', ranges: [{ startOffset, endOffset, count: counts[index]! }], isBlockCoverage: true })
    })
    counts.fill(0)
    result.push({ scriptId: String(result.length), url: fileUrl, functions })
    const map = sourceMapOf(fileUrl)
    if (map) cache[fileUrl] = map
  }
  const file = { result, timestamp: performance.now(), 'source-map-cache': cache }
  fs.writeFileSync(path.join(dir, `coverage-${process.pid}-${ms}-${threadId}.json`), JSON.stringify(file))
}

export = { start, write }
