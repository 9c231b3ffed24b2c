import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { ScriptCov, SourceMapCacheEntry, SourceMapData } from './v8-types.js'
import type { PlainPlan } from './convert-plain.js'
import type { KeyedParser } from './plan-store.js'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { applyPlan, isPlainScript, planPlain } from './convert-plain.js'
import { readStoredPlan, storePlan } from './plan-store.js'
import { TS_EXTENSION, absoluteSourceUrls, executedCode, placeholderSource, stripTypes } from './executed-code.js'

// One V8 script → istanbul file coverage. Scripts without a source map (most) go through
// convert-plain.ts, which gives ast-v8-to-istanbul's exact output several times faster, and its
// plan is kept by content: the next coverage of the same code (the next collection in watch mode,
// another server running the same file) needs no parse and no walk. The library itself is loaded
// only for the other scripts. Plans are also kept on disk for the next run (plan-store.ts). File reads are synchronous: a conversion reads a few small files
// and then parses, and async reads' thread-pool round trips cost more than the reads (bench/).

/**
 * Parses JavaScript into an ESTree Program; the host runner's own parser gives identical maps. A
 * `cacheKey` (the parser and its version) lets plans made with it be kept on disk for later runs.
 */
export type ParseFn = ((code: string) => Promise<unknown> | unknown) & KeyedParser

/** What converting one script gave: its file coverage, or why its source map was not used. */
export interface ScriptConversion {
  data: CoverageMapData
  /** Set when the source map was unusable and the executed file was reported instead. */
  unmapped?: string
}

/**
 * Plans kept per parser (a runner's parser may build other maps) and path, with the code they were
 * made from: a plan is reused only for the same content (compared as strings, which needs no hash
 * and no crypto module in a fresh process). Least recently used out first.
 */
const plans = new WeakMap<ParseFn, Map<string, { code: string; plan: PlainPlan }>>()
const MAX_PLANS = 4000

async function plainPlan(path: string, code: string, parse: ParseFn): Promise<PlainPlan | undefined> {
  let byPath = plans.get(parse)
  if (!byPath) plans.set(parse, (byPath = new Map()))
  const kept = byPath.get(path)
  byPath.delete(path)
  if (kept?.code === code) {
    byPath.set(path, kept)
    return kept.plan
  }
  // A run before this one (a fresh process: `vitest run`, the CLI) may have planned this code already.
  const stored = readStoredPlan(path, code, parse)
  const plan = stored ?? (await planPlain(path, code, await parse(code)))
  if (!plan) return undefined
  if (!stored) storePlan(path, code, parse, plan)
  if (byPath.size >= MAX_PLANS) byPath.delete(byPath.keys().next().value!)
  byPath.set(path, { code, plan })
  return plan
}

/** Loads the code the process executed for a script without a source map. */
function unmappedCode(path: string): string {
  const code = readFileSync(path, 'utf8')
  return TS_EXTENSION.test(path) ? stripTypes(code) : code
}

/** v8-to-istanbul returns an empty file when `sourcesContent` is missing: fill it from disk. */
function fillSourcesContent(map: SourceMapData): SourceMapData {
  const sourcesContent = map.sources.map((source, index) => {
    const existing = map.sourcesContent?.[index]
    if (existing != null || source == null) return existing ?? null
    try {
      return readFileSync(fileURLToPath(source), 'utf8')
    } catch {
      return null
    }
  })
  return { ...map, sourcesContent }
}

/** ast-v8-to-istanbul itself, for a script convert-plain.ts leaves to it. */
async function libraryConversion(code: string, ast: unknown, scriptCov: ScriptCov): Promise<CoverageMapData> {
  const { default: astV8ToIstanbul } = await import('ast-v8-to-istanbul')
  return astV8ToIstanbul({ code, ast: ast as never, coverage: scriptCov, wrapperLength: 0 })
}

/**
 * Converts one merged V8 script, following Node's source map so TypeScript servers report `.ts`
 * lines. Throws when the script cannot be converted (its file is gone, it does not parse).
 */
export async function convertScript(
  scriptCov: ScriptCov,
  sourceMap: SourceMapCacheEntry | undefined,
  parse: ParseFn,
  savedSourceDirs: readonly string[],
): Promise<ScriptConversion> {
  const path = fileURLToPath(scriptCov.url)
  const map = sourceMap?.data ? absoluteSourceUrls(sourceMap.data, scriptCov.url) : undefined
  let unmapped: string | undefined
  if (map && !map.sources.some((source) => source != null && source.startsWith('file://') && existsSync(fileURLToPath(source)))) {
    // A map whose sources are nowhere on disk (wrong or stale): report the code that ran instead.
    unmapped = `its source map points to files that do not exist (${map.sources.filter(Boolean).join(', ')})`
  } else if (map) {
    const code = await executedCode(path, scriptCov.url, sourceMap?.lineLengths, savedSourceDirs)
    if (code === undefined) {
      // The executed code exists only in memory (tsx and other loaders): map V8 ranges through the
      // source map with v8-to-istanbul, which needs only the executed file's line lengths. Loaded
      // only here: most servers never need it.
      const { default: v8ToIstanbul } = await import('v8-to-istanbul')
      const converter = v8ToIstanbul(path, 0, {
        source: placeholderSource(sourceMap?.lineLengths ?? []),
        sourceMap: { sourcemap: fillSourcesContent(map) as never },
      })
      await converter.load()
      converter.applyCoverage(scriptCov.functions)
      return { data: converter.toIstanbul() as CoverageMapData }
    }
    const { default: astV8ToIstanbul } = await import('ast-v8-to-istanbul')
    return { data: await astV8ToIstanbul({ code, ast: (await parse(code)) as never, coverage: scriptCov, wrapperLength: 0, sourceMap: map as never }) }
  }
  let code = unmappedCode(path)
  // ast-v8-to-istanbul follows a `sourceMappingURL` comment by itself: blank it (same length, so
  // offsets hold) when the map was judged unusable above.
  if (map) code = code.replace(/(\/\/|\/\*)[#@]\s*sourceMappingURL=[^\n]*/g, (comment) => ' '.repeat(comment.length))
  // Most scripts take convert-plain's fast path; it has no plan wherever the library decides.
  const plan = isPlainScript(code, path) ? await plainPlan(path, code, parse) : undefined
  const data = plan ? applyPlan(plan, scriptCov) : await libraryConversion(code, await parse(code), scriptCov)
  return unmapped === undefined ? { data } : { data, unmapped }
}
