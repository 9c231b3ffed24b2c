import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { RawCoverage } from '../runtimes/types.js'
import type { ParseFn } from './convert-script.js'
import type { ScriptCov, SourceMapCacheEntry } from './v8-types.js'
import { fileURLToPath } from 'node:url'
import { convertScript } from './convert-script.js'
import { mergeInto } from './merge-into.js'

export type { ParseFn }

/** The result of converting merged server scripts to istanbul data. */
export interface Conversion {
  data: CoverageMapData
  /** Scripts that could not be converted, with the reason: reported once, never fatal. */
  failed: { path: string; reason: string }[]
  /** Scripts whose source map was unusable, reported as the executed file instead. */
  unmapped: { path: string; reason: string }[]
}

/**
 * Converts merged V8 scripts into istanbul file coverage, once per script, following Node's
 * source maps so TypeScript servers report `.ts` lines. A script that fails is listed in `failed`.
 * One thread on purpose: a pool of worker threads measured ~45% more CPU for the same wide read
 * (each worker starts and warms up its own parser) and no faster on 2 shared cores (bench/).
 */
export async function convertScripts(
  scriptCovs: readonly ScriptCov[],
  sourceMaps: Record<string, SourceMapCacheEntry>,
  parse: ParseFn,
  savedSourceDirs: readonly string[] = [],
): Promise<Conversion> {
  const conversion: Conversion = { data: {}, failed: [], unmapped: [] }
  for (const scriptCov of scriptCovs) {
    const path = fileURLToPath(scriptCov.url)
    try {
      const converted = await convertScript(scriptCov, sourceMaps[scriptCov.url], parse, savedSourceDirs)
      if (converted.unmapped !== undefined) conversion.unmapped.push({ path, reason: converted.unmapped })
      // Two scripts can map to one source (bundles): merge by location rather than overwrite.
      mergeInto(conversion.data, converted.data)
    } catch (error) {
      conversion.failed.push({ path, reason: error instanceof Error ? error.message : String(error) })
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
