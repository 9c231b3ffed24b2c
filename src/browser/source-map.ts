import type { Segment } from './remap.js'
import { AnyMap, decodedMappings } from '@jridgewell/trace-mapping'

/** A script's source map, decoded. */
export interface LoadedSourceMap {
  /** Where the map came from (`data:` for inline maps), for messages. */
  url: string
  /** `sources` as written in the map (relative paths, `webpack://…`), used to find the files on disk. */
  sources: (string | null)[]
  sourcesContent: (string | null)[]
  mappings: readonly (readonly Segment[])[]
}

/** What loading a script's map gave: the map, no map at all, or a reason it could not be used. */
export type SourceMapResult = { map: LoadedSourceMap } | { none: true } | { error: string }

const MAP_COMMENT = /(?:\/\/|\/\*)[#@]\s*sourceMappingURL=([^\s*'"]+)\s*(?:\*\/\s*)?$/

/** The `sourceMappingURL` of a script: the last such comment, at the end of the code. */
export function sourceMappingUrl(code: string): string | undefined {
  const tail = code.slice(Math.max(0, code.lastIndexOf('sourceMappingURL=') - 4))
  return MAP_COMMENT.exec(tail)?.[1]
}

function decodeDataUrl(url: string): string {
  const comma = url.indexOf(',')
  const meta = url.slice(5, comma)
  const body = url.slice(comma + 1)
  return meta.endsWith(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body)
}

/** Parses a map (also an indexed map with `sections`) into what remapping needs. */
export function decodeSourceMap(json: string, url: string): LoadedSourceMap {
  const map = new AnyMap(JSON.parse(json) as never)
  return {
    url,
    sources: map.sources,
    sourcesContent: map.sourcesContent ?? map.sources.map(() => null),
    mappings: decodedMappings(map) as readonly (readonly Segment[])[],
  }
}

/**
 * Loads the source map a script names: inline (`data:` URL) or fetched next to the script (the
 * server is still running while the tests do). Never throws.
 */
export async function loadSourceMap(scriptUrl: string, code: string, fetchText: (url: string) => Promise<string>): Promise<SourceMapResult> {
  const reference = sourceMappingUrl(code)
  if (reference === undefined) return { none: true }
  let url: string
  try {
    url = new URL(reference, scriptUrl).href
  } catch {
    return { error: `its sourceMappingURL "${reference}" is not a URL` }
  }
  try {
    const json = url.startsWith('data:') ? decodeDataUrl(url) : await fetchText(url)
    return { map: decodeSourceMap(json, url.startsWith('data:') ? 'an inline source map' : url) }
  } catch (error) {
    return { error: `its source map ${url.startsWith('data:') ? '(inline)' : url} could not be read: ${error instanceof Error ? error.message : String(error)}` }
  }
}

/** Fetches a text over HTTP, failing on a non-2xx status (bounded: a hung server must not stall the test). */
export async function fetchText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  if (!response.ok) throw new Error(`HTTP ${response.status}`)
  return response.text()
}
