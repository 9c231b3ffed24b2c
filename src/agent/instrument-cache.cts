/**
 * Counting on load's on-disk cache of instrumented code (like nyc's `node_modules/.cache/nyc`):
 * every process of a server instruments the same files, and every run of the tests the same
 * again, which costs each process acorn's load and a parse and walk per file (bench/RESULTS.md,
 * start-up). A hit costs one file read and a string compare, and acorn is never loaded.
 *
 * The folder comes from the collector (`SERVER_COVERAGE_CACHE`, src/runtimes/node/counting-load.ts);
 * without it nothing is cached. An entry is used only if it was made from exactly the same source
 * text (stored in the entry and compared: no digest, so no `node:crypto` at start-up), by the same
 * instrumenter (this build's instrument.cjs and the acorn it loads: `SERVER_COVERAGE_CACHE_ID`), for the same V8 major (the class
 * initializer ranges depend on it) and the same URL (it is baked into the code); so its file name
 * needs no strength, and stale or foreign entries are simply instrumented again and replaced.
 *
 * A cache must never cost the app anything but time: every error (a missing or read-only folder,
 * a truncated or corrupt entry, a full disk) falls back to instrumenting, silently.
 */
import fs = require('node:fs')
import path = require('node:path')
import entries = require('../cache-entry.cjs')

const { fnv1a, writeEntry } = entries

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
  codeSum: string
  ranges: Instrumented['ranges']
}

const dir = process.env.SERVER_COVERAGE_CACHE || undefined
/**
 * Which instrumenter makes the entries (this build's instrument.cjs and the acorn it loads): the
 * collector works it out once for every process (src/runtimes/node/counting-load.ts); unset, nothing is cached.
 */
const instrumenter = process.env.SERVER_COVERAGE_CACHE_ID || undefined
const V8_MAJOR = Number(process.versions.v8.split('.')[0])

/** One entry per URL and V8 major (Node 20 and 24 running one project do not evict each other). */
function entryPath(cacheDir: string, url: string): string {
  return path.join(cacheDir, `${fnv1a(url)}-v8-${V8_MAJOR}.cache`)
}

/** The cached instrumentation of `source` loaded from `url`, or undefined (no cache, no entry, or not valid for this source). */
function readCached(url: string, source: string): Instrumented | undefined {
  if (!dir || !instrumenter) return undefined
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
    if (header.instrumenter !== instrumenter || header.v8 !== V8_MAJOR || header.url !== url) return undefined
    if (header.sourceLength !== source.length || text.length !== codeAt + header.codeLength) return undefined
    if (!text.startsWith(source, sourceAt)) return undefined
    const code = text.slice(codeAt)
    if (fnv1a(code) !== header.codeSum || !Array.isArray(header.ranges)) return undefined
    return { code, ranges: header.ranges }
  } catch {
    return undefined
  }
}

/** Stores what `source` (from `url`) was instrumented into (src/cache-entry.cts writes it atomically). */
function writeCached(url: string, source: string, instrumented: Instrumented): void {
  if (!dir || !instrumenter) return
  const header: Header = {
    instrumenter,
    v8: V8_MAJOR,
    url,
    sourceLength: source.length,
    codeLength: instrumented.code.length,
    codeSum: fnv1a(instrumented.code),
    ranges: instrumented.ranges,
  }
  writeEntry(entryPath(dir, url), `${JSON.stringify(header)}\n${source}${instrumented.code}`)
}

export = { readCached, writeCached }
