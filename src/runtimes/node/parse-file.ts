import type { NodeCoverageFile, ScriptCov, SourceMapCacheEntry } from '../../coverage/v8-types.js'

// Node writes a coverage file as `{"result":[{"scriptId":…},…],"timestamp":…,"source-map-cache":{…}}`.
// A server process's file is ~60% Node internals and ~26% `node_modules`, and its source-map
// cache carries the maps of every mapped module the process loaded (our agent's, TypeScript
// packages'…): 44% of the bytes of a 16-worker run (bench/). Parsing all of it dominated
// collection time, so the file is scanned as bytes and `JSON.parse` runs only on the scripts a
// report can use and on their maps. JSON strings escape every `"`, so the markers below (which
// contain bare quotes) can only occur between values. Anything unexpected falls back to parsing
// the whole text; a truncated file throws, as `JSON.parse` would.

const HEAD = '{"result":['
const ENTRY = '{"scriptId":"'
const NEXT_ENTRY = ',{"scriptId":"'
const URL_FIELD = '","url":"'
const TAIL = '],"timestamp":'
const CACHE_FIELD = ',"source-map-cache":{'
/** Node writes each cache entry as `"<url>":{"lineLengths":[…],"data":…,"url":…}`. */
const CACHE_ENTRY = '":{"lineLengths":['
const QUOTE = 0x22

/** Decides from its URL and whether Node cached a source map for it whether a script is parsed at all. */
export type UrlFilter = (url: string, hasSourceMap: boolean) => boolean

/**
 * Source-map cache entries parsed already, by URL, with the bytes they were parsed from. Node
 * writes its whole source-map cache into every coverage file, so a TypeScript server's maps come
 * back once per process and per flush; an entry whose bytes are the same is not parsed again (its
 * object is shared: nothing downstream mutates a map).
 */
export type ParsedMaps = Map<string, { bytes: Buffer; entry: SourceMapCacheEntry }>

/** Scripts no report can use: Node internals, `node_modules`, anything not a file. */
function obviouslyUnwanted(url: string): boolean {
  return !url.startsWith('file://') || url.includes('/node_modules/')
}

/** The URL without the query and hash that ESM cache-busting adds (`m.mjs?v=1`). */
export function normaliseUrl(url: string): string {
  const cut = url.search(/[?#]/)
  return cut === -1 ? url : url.slice(0, cut)
}

function parseWhole(buffer: Buffer): NodeCoverageFile {
  return JSON.parse(buffer.toString('utf8')) as NodeCoverageFile
}

/** Where each source-map cache entry's value lies (`[start, end)`), by URL; undefined if the layout is not Node's. */
function locateCacheEntries(buffer: Buffer, from: number, end: number): Map<string, [number, number]> | undefined {
  const entries = new Map<string, [number, number]>()
  let previous: { url: string; start: number } | undefined
  for (let at = buffer.indexOf(CACHE_ENTRY, from); at !== -1 && at < end; at = buffer.indexOf(CACHE_ENTRY, at + CACHE_ENTRY.length)) {
    const keyStart = buffer.lastIndexOf(QUOTE, at - 1)
    if (keyStart < from) return undefined
    const before = buffer[keyStart - 1]
    if (before !== 0x7b /* { */ && before !== 0x2c /* , */) return undefined
    if (previous) entries.set(previous.url, [previous.start, keyStart - 1])
    previous = { url: buffer.toString('utf8', keyStart + 1, at), start: at + 2 }
  }
  if (previous) entries.set(previous.url, [previous.start, end])
  return entries
}

/**
 * Parses a coverage file as Node writes it, running `JSON.parse` only on the scripts a report
 * could use (`file:` URLs outside `node_modules` that `keep` accepts) and on the source-map cache
 * entries of those scripts (other entries are left out; entries in `parsedMaps` with the same bytes
 * are taken from there).
 */
export function parseCoverageFile(input: Buffer | string, keep?: UrlFilter, parsedMaps?: ParsedMaps): NodeCoverageFile {
  const buffer = typeof input === 'string' ? Buffer.from(input) : input
  const tailAt = buffer.lastIndexOf(TAIL)
  if (tailAt === -1 || buffer.toString('latin1', 0, HEAD.length) !== HEAD) return parseWhole(buffer)
  // The tail: `],"timestamp":…` and maybe `,"source-map-cache":{…}`, then `}`.
  const cacheAt = buffer.indexOf(CACHE_FIELD, tailAt)
  let tail: Omit<NodeCoverageFile, 'result'>
  let cacheEntries = new Map<string, [number, number]>()
  const fileEnd = buffer.lastIndexOf('}}')
  if (cacheAt === -1) {
    tail = JSON.parse(`{${buffer.toString('utf8', tailAt + 2)}`) as typeof tail
  } else {
    const located = fileEnd > cacheAt ? locateCacheEntries(buffer, cacheAt + CACHE_FIELD.length, fileEnd) : undefined
    if (!located || buffer.toString('latin1', fileEnd).trimEnd() !== '}}') return parseWhole(buffer)
    cacheEntries = located
    tail = { timestamp: JSON.parse(buffer.toString('latin1', tailAt + TAIL.length, cacheAt)) as number } as typeof tail
  }
  const result: ScriptCov[] = []
  const cache: Record<string, SourceMapCacheEntry> = {}
  const takeMap = (url: string): void => {
    const range = cacheEntries.get(url)
    if (!range || url in cache) return
    const bytes = buffer.subarray(range[0], range[1])
    const known = parsedMaps?.get(url)
    if (known?.bytes.equals(bytes)) {
      cache[url] = known.entry
      return
    }
    cache[url] = JSON.parse(bytes.toString('utf8')) as SourceMapCacheEntry
    // A copy: `buffer` may be reused for the next file.
    parsedMaps?.set(url, { bytes: Buffer.from(bytes), entry: cache[url] })
  }
  let start = HEAD.length
  if (start < tailAt && buffer.toString('latin1', start, start + ENTRY.length) !== ENTRY) return parseWhole(buffer)
  while (start < tailAt) {
    const next = buffer.indexOf(NEXT_ENTRY, start + ENTRY.length)
    const end = next === -1 || next > tailAt ? tailAt : next
    const urlField = buffer.indexOf(URL_FIELD, start + ENTRY.length)
    const urlEnd = urlField === -1 ? -1 : buffer.indexOf(QUOTE, urlField + URL_FIELD.length)
    if (urlField === -1 || urlEnd === -1 || urlEnd >= end) return parseWhole(buffer)
    // An escape in the URL (never seen for file URLs, which percent-encode): read it as JSON.
    let url = buffer.toString('utf8', urlField + URL_FIELD.length, urlEnd)
    if (url.includes('\\')) url = (JSON.parse(buffer.toString('utf8', start, end)) as ScriptCov).url
    if (!obviouslyUnwanted(url)) {
      const normalised = normaliseUrl(url)
      if (!keep || keep(url, cacheEntries.has(url) || cacheEntries.has(normalised))) {
        result.push(JSON.parse(buffer.toString('utf8', start, end)) as ScriptCov)
        takeMap(url)
        takeMap(normalised)
      }
    }
    start = end + 1
  }
  return cacheAt === -1 ? { ...tail, result } : { ...tail, result, 'source-map-cache': cache }
}
