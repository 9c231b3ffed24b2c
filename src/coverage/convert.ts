import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { RawCoverage } from '../runtimes/types.js'
import type { ScriptCov, SourceMapCacheEntry, SourceMapData } from './v8-types.js'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import astV8ToIstanbul from 'ast-v8-to-istanbul'
import v8ToIstanbul from 'v8-to-istanbul'
import { TS_EXTENSION, absoluteSourceUrls, executedCode, placeholderSource, stripTypes } from './executed-code.js'
import { mergeInto } from './merge-into.js'

/** Parses JavaScript into an ESTree Program; the host runner's own parser gives identical maps. */
export type ParseFn = (code: string) => Promise<unknown> | unknown

/** The result of converting merged server scripts to istanbul data. */
export interface Conversion {
  data: CoverageMapData
  /** Scripts that could not be converted, with the reason: reported once, never fatal. */
  failed: { path: string; reason: string }[]
  /** Scripts whose source map was unusable, reported as the executed file instead. */
  unmapped: { path: string; reason: string }[]
}

/** Loads the code the process executed for a script without a source map. */
async function unmappedCode(path: string): Promise<string> {
  const code = await readFile(path, 'utf8')
  return TS_EXTENSION.test(path) ? stripTypes(code) : code
}

async function convertScript(
  scriptCov: ScriptCov,
  sourceMap: SourceMapCacheEntry | undefined,
  parse: ParseFn,
  savedSourceDirs: readonly string[],
  onUnmapped: (reason: string) => void,
): Promise<CoverageMapData> {
  const path = fileURLToPath(scriptCov.url)
  const map = sourceMap?.data ? absoluteSourceUrls(sourceMap.data, scriptCov.url) : undefined
  if (map && !map.sources.some((source) => source != null && source.startsWith('file://') && existsSync(fileURLToPath(source)))) {
    // A map whose sources are nowhere on disk (wrong or stale): report the code that ran instead.
    onUnmapped(`its source map points to files that do not exist (${map.sources.filter(Boolean).join(', ')})`)
  } else if (map) {
    const code = await executedCode(path, scriptCov.url, sourceMap?.lineLengths, savedSourceDirs)
    if (code === undefined) {
      // The executed code exists only in memory (tsx and other loaders): map V8 ranges through the
      // source map with v8-to-istanbul, which needs only the executed file's line lengths.
      const converter = v8ToIstanbul(path, 0, {
        source: placeholderSource(sourceMap?.lineLengths ?? []),
        sourceMap: { sourcemap: (await fillSourcesContent(map)) as never },
      })
      await converter.load()
      converter.applyCoverage(scriptCov.functions)
      return converter.toIstanbul() as CoverageMapData
    }
    return astV8ToIstanbul({ code, ast: (await parse(code)) as never, coverage: scriptCov, wrapperLength: 0, sourceMap: map as never })
  }
  let code = await unmappedCode(path)
  // ast-v8-to-istanbul follows a `sourceMappingURL` comment by itself: blank it (same length, so
  // offsets hold) when the map was judged unusable above.
  if (map) code = code.replace(/(\/\/|\/\*)[#@]\s*sourceMappingURL=[^\n]*/g, (comment) => ' '.repeat(comment.length))
  return astV8ToIstanbul({ code, ast: (await parse(code)) as never, coverage: scriptCov, wrapperLength: 0 })
}

/** v8-to-istanbul returns an empty file when `sourcesContent` is missing: fill it from disk. */
async function fillSourcesContent(map: SourceMapData): Promise<SourceMapData> {
  const sourcesContent = await Promise.all(
    map.sources.map(async (source, index) => {
      const existing = map.sourcesContent?.[index]
      if (existing != null || source == null) return existing ?? null
      try {
        return await readFile(fileURLToPath(source), 'utf8')
      } catch {
        return null
      }
    }),
  )
  return { ...map, sourcesContent }
}

/**
 * Converts merged V8 scripts into istanbul file coverage, once per script, following Node's
 * source maps so TypeScript servers report `.ts` lines. A script that fails is listed in `failed`.
 */
export async function convertScripts(
  scriptCovs: readonly ScriptCov[],
  sourceMaps: Record<string, SourceMapCacheEntry>,
  parse: ParseFn,
  savedSourceDirs: readonly string[] = [],
): Promise<Conversion> {
  const conversion: Conversion = { data: {}, failed: [], unmapped: [] }
  for (const scriptCov of scriptCovs) {
    try {
      const onUnmapped = (reason: string): void => void conversion.unmapped.push({ path: fileURLToPath(scriptCov.url), reason })
      const converted = await convertScript(scriptCov, sourceMaps[scriptCov.url], parse, savedSourceDirs, onUnmapped)
      // Two scripts can map to one source (bundles): merge by location rather than overwrite.
      mergeInto(conversion.data, converted)
    } catch (error) {
      conversion.failed.push({ path: fileURLToPath(scriptCov.url), reason: error instanceof Error ? error.message : String(error) })
    }
  }
  return conversion
}

/**
 * The convert stage: raw coverage of any runtime → istanbul data. V8 scripts are converted once
 * each; data a runtime already gives the istanbul way passes through.
 */
export async function toIstanbul(raw: RawCoverage, parse: ParseFn): Promise<Conversion> {
  if (raw.format === 'istanbul') return { data: raw.data, failed: [], unmapped: [] }
  return convertScripts(raw.scripts, raw.sourceMaps, parse, raw.sourcesDirs)
}
