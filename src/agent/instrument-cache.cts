/**
 * Counting on load's on-disk cache of instrumented code (like nyc's `node_modules/.cache/nyc`):
 * every process of a server instruments the same files, and every run of the tests the same
 * again, which costs each process acorn's load and a parse and walk per file (bench/RESULTS.md,
 * start-up). A hit costs one file read and a string compare, and acorn is never loaded.
 *
 * The folder comes from the collector (`SERVER_COVERAGE_CACHE`, src/runtimes/node/counting-load.ts);
 * without it nothing is cached. An entry is used only if it was made from exactly the same source
 * text (stored in the entry and compared: no digest, so no `node:crypto` at start-up), by the same
 * instrumenter (this build's instrument.cjs and the acorn it loads), for the same V8 major (the class
 * initializer ranges depend on it) and the same URL (it is baked into the code); so its file name
 * needs no strength, and stale or foreign entries are simply instrumented again and replaced.
 *
 * A cache must never cost the app anything but time: every error (a missing or read-only folder,
 * a truncated or corrupt entry, a full disk) falls back to instrumenting, silently.
 */
import fs = require('node:fs')
import path = require('node:path')

/** What instrument.cts makes: the code and its counter ranges. */
interface Instrumented {
  code: string
  ranges: ([number, number] | [number, number, 1])[]
}

/** The first line of an entry; the source text and the instrumented code follow it, in that order. */
interface Header {
  instrumenter: string
  v8: number
  url: string
  sourceLength: number
  codeLength: number
  /** FNV-1a of the code: a corrupt entry whose lengths still match is not run. */
  codeSum: number
  ranges: Instrumented['ranges']
}

const dir = process.env.SERVER_COVERAGE_CACHE || undefined
const V8_MAJOR = Number(process.versions.v8.split('.')[0])

/** 32-bit FNV-1a over UTF-16 code units: cheap, and enough where the content is compared anyway. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return hash >>> 0
}

let instrumenterId: string | null | undefined

/**
 * Which instrumenter makes the entries: the digest of instrument.cjs's own text, written next to
 * it by the build (scripts/instrumenter-id.mjs: any change to what it emits changes it, with no
 * version to remember to bump), and acorn's version (the tree it walks). Read once, on the first
 * lookup; null when it cannot be (running from the sources: no cache then).
 */
function instrumenter(): string | null {
  if (instrumenterId !== undefined) return instrumenterId
  try {
    const digest = fs.readFileSync(path.join(__dirname, 'instrument-id.txt'), 'utf8').trim()
    instrumenterId = digest ? `${digest}-acorn${acornVersion()}` : null
  } catch {
    instrumenterId = null
  }
  return instrumenterId
}

/**
 * The version of the acorn `require('acorn')` loads here, found as Node finds it (the nearest
 * `node_modules/acorn` up from this file) without loading acorn. `require.resolve` would take
 * ~1 ms of every process's start-up (measured on Node 24), about what a hit saves over a parse.
 */
function acornVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      return (JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'acorn', 'package.json'), 'utf8')) as { version: string }).version
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(dir) === dir) throw error
    }
  }
}

/** One entry per URL and V8 major (Node 20 and 24 running one project do not evict each other). */
function entryPath(cacheDir: string, url: string): string {
  return path.join(cacheDir, `${fnv1a(url).toString(16).padStart(8, '0')}-v8-${V8_MAJOR}.cache`)
}

/** The cached instrumentation of `source` loaded from `url`, or undefined (no cache, no entry, or not valid for this source). */
function readCached(url: string, source: string): Instrumented | undefined {
  if (!dir) return undefined
  const id = instrumenter()
  if (!id) return undefined
  let text: string
  try {
    text = fs.readFileSync(entryPath(dir, url), 'utf8')
  } catch {
    return undefined
  }
  try {
    const newline = text.indexOf('\n')
    if (newline < 0) return undefined
    const header = JSON.parse(text.slice(0, newline)) as Header
    const sourceAt = newline + 1
    const codeAt = sourceAt + header.sourceLength
    if (header.instrumenter !== id || header.v8 !== V8_MAJOR || header.url !== url) return undefined
    if (header.sourceLength !== source.length || text.length !== codeAt + header.codeLength) return undefined
    if (!text.startsWith(source, sourceAt)) return undefined
    const code = text.slice(codeAt)
    if (fnv1a(code) !== header.codeSum || !Array.isArray(header.ranges)) return undefined
    return { code, ranges: header.ranges }
  } catch {
    return undefined
  }
}

/**
 * Stores what `source` (from `url`) was instrumented into. Written to a file of its own and
 * renamed into place: a reader sees a whole entry or none, and processes that write the same
 * entry at once each rename a whole one (the last wins; they are equal).
 */
function writeCached(url: string, source: string, instrumented: Instrumented): void {
  if (!dir) return
  const id = instrumenter()
  if (!id) return
  const entry = entryPath(dir, url)
  const temp = `${entry}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`
  const header: Header = {
    instrumenter: id,
    v8: V8_MAJOR,
    url,
    sourceLength: source.length,
    codeLength: instrumented.code.length,
    codeSum: fnv1a(instrumented.code),
    ranges: instrumented.ranges,
  }
  try {
    fs.writeFileSync(temp, `${JSON.stringify(header)}\n${source}${instrumented.code}`, { flag: 'wx', mode: 0o600 })
    fs.renameSync(temp, entry)
  } catch {
    // Read-only, missing or full: this process instruments, the next one tries again.
    try {
      fs.unlinkSync(temp)
    } catch {
      // never written
    }
  }
}

export = { readCached, writeCached }
