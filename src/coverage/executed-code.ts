import type { SourceMapData } from './v8-types.js'
import { existsSync, readFileSync } from 'node:fs'
import module from 'node:module'
import { join } from 'node:path'

// What V8 actually ran for a script, shared by our converter and the Jest v8 injection: V8
// offsets refer to that code, not to the file a source map points at.

export const TS_EXTENSION = /\.[mc]?tsx?$/

/** Whether `code` has the line lengths Node recorded for the executed script. */
export function lineLengthsMatch(code: string, lineLengths: readonly number[] | undefined): boolean {
  if (!lineLengths) return true
  const lines = code.split('\n')
  return lines.length >= lineLengths.length && lineLengths.every((length, index) => (lines[index] ?? '').replace(/\r$/, '').length === length)
}

/** Dots with the executed file's line lengths: all that mapping V8 ranges through a source map needs. */
export function placeholderSource(lineLengths: readonly number[]): string {
  return lineLengths.map((length) => '.'.repeat(length)).join('\n')
}

/** Node's type stripping blanks types with spaces, so offsets equal the .ts file's. */
export function stripTypes(code: string): string {
  const strip = (module as unknown as { stripTypeScriptTypes?: (code: string) => string }).stripTypeScriptTypes
  if (!strip) throw new Error('a .ts file run without a source map needs Node 22.13+ (module.stripTypeScriptTypes) to convert')
  return strip(code)
}

/**
 * The code a mapped script ran: its file on disk when the line lengths match (tsc output), else the
 * copy the agent saved of in-memory code (`<sha1 of url>.js` in a sources folder, e.g. tsx), else
 * undefined.
 */
export async function executedCode(path: string, url: string, lineLengths: readonly number[] | undefined, sourcesDirs: readonly string[]): Promise<string | undefined> {
  // node:crypto only here: most servers have no mapped script, and a fresh collector process pays for every module it loads.
  const { createHash } = await import('node:crypto')
  const candidates = [path, ...sourcesDirs.map((dir) => join(dir, `${createHash('sha1').update(url).digest('hex')}.js`))]
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue
    // Synchronous: one small file, read right before a parse (async reads only added round trips).
    const code = readFileSync(candidate, 'utf8')
    if (lineLengthsMatch(code, lineLengths)) return code
  }
  return undefined
}

/** Resolves a source map's `sources` (and `sourceRoot`) to absolute `file://` URLs against the script's URL. */
export function absoluteSourceUrls(map: SourceMapData, scriptUrl: string): SourceMapData {
  const base = map.sourceRoot ? new URL(map.sourceRoot.endsWith('/') ? map.sourceRoot : `${map.sourceRoot}/`, scriptUrl).href : scriptUrl
  return { ...map, sourceRoot: undefined, sources: map.sources.map((source) => (source == null ? source : new URL(source, base).href)) }
}
