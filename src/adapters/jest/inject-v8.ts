import type { V8Coverage } from '../../runtimes/types.js'
import type { ScriptCov, SourceMapData } from '../../coverage/v8-types.js'
import type { V8CoverageEntry } from './jest-types.js'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import v8ToIstanbul from 'v8-to-istanbul'
import { TS_EXTENSION, absoluteSourceUrls, executedCode, placeholderSource, stripTypes } from '../../coverage/executed-code.js'
import { identitySourceMap } from './identity-map.js'

/** Server scripts ready for `testResult.v8Coverage`, and those left out (never fatal). */
export interface V8Injection {
  entries: V8CoverageEntry[]
  failed: { path: string; reason: string }[]
  /** Files the tests ran too: merged by Jest as a union of both sides. */
  shared: string[]
}

export interface V8InjectionOptions {
  /** Whether a reported (source-mapped) file belongs in Jest's report. */
  accepts: (path: string) => boolean
  /** URLs Jest already holds raw V8 data for (the tests' files); ours get added as they are used. */
  takenUrls: Set<string>
  /** A private folder for source maps and copies; must exist until Jest wrote its report. */
  dir: string
}

/** A source map's sources as absolute paths (Jest's converter wants paths, not URLs). */
function absoluteSources(map: SourceMapData, scriptUrl: string): SourceMapData {
  const resolved = absoluteSourceUrls(map, scriptUrl)
  return { ...resolved, sources: resolved.sources.map((source) => (source == null ? source : fileURLToPath(source))) }
}

async function readIfExists(path: string): Promise<string | undefined> {
  return existsSync(path) ? readFile(path, 'utf8') : undefined
}

/** What Jest needs to convert one script: the executed code, the original and a map between them. */
interface Transform {
  code: string
  originalCode: string
  map: SourceMapData
  /** The file the data is reported under. */
  reported: string
}

async function transformFor(scriptCov: ScriptCov, collected: V8Coverage, options: V8InjectionOptions): Promise<Transform | 'plain' | undefined> {
  const path = fileURLToPath(scriptCov.url)
  const cached = collected.sourceMaps[scriptCov.url]
  if (cached?.data) {
    const map = absoluteSources(cached.data, scriptCov.url)
    const reported = map.sources.find((source): source is string => source != null && options.accepts(source))
    if (reported === undefined) return undefined
    const sourcesContent = await Promise.all(map.sources.map(async (source, i) => map.sourcesContent?.[i] ?? (source ? ((await readIfExists(source)) ?? null) : null)))
    const code =
      (await executedCode(path, scriptCov.url, cached.lineLengths, collected.sourcesDirs)) ?? placeholderSource(cached.lineLengths ?? [])
    return { code, originalCode: sourcesContent[map.sources.indexOf(reported)] ?? '', map: { ...map, sourcesContent }, reported }
  }
  if (!options.accepts(path)) return undefined
  const original = await readFile(path, 'utf8')
  if (TS_EXTENSION.test(path)) {
    // Node's type stripping: offsets are the .ts file's with types blanked out.
    const code = stripTypes(original)
    return { code, originalCode: original, map: { ...identitySourceMap(code, path), sourcesContent: [original] }, reported: path }
  }
  // Plain JavaScript the tests did not run: Jest reads it from disk itself.
  if (!options.takenUrls.has(path)) return 'plain'
  return { code: original, originalCode: original, map: identitySourceMap(original, path), reported: path }
}

/** Converts an entry exactly as Jest's CoverageReporter will, so a bad one is caught here. */
async function checkEntry(entry: V8CoverageEntry): Promise<void> {
  const transform = entry.codeTransformResult
  const sources = transform?.sourceMapPath
    ? {
        originalSource: transform.originalCode,
        source: transform.code,
        sourceMap: { sourcemap: { file: entry.result.url, ...(JSON.parse(await readFile(transform.sourceMapPath, 'utf8')) as object) } },
      }
    : { source: await readFile(entry.result.url, 'utf8') }
  const converter = v8ToIstanbul(entry.result.url, 0, sources as never)
  await converter.load()
  converter.applyCoverage(entry.result.functions)
  converter.toIstanbul()
}

/**
 * Turns the server's merged raw V8 coverage into entries for Jest's v8 provider, which merges
 * raw V8 by URL and converts each URL once with the first transform it saw for it. A server
 * script the tests also ran therefore gets a URL of its own (a copy in `dir`) whose identity
 * source map points back at the real file: Jest converts both sides separately and merges the
 * results by location, a union of the tests' and the server's hits. Mapped scripts (tsc, tsx)
 * carry Node's own source map; each entry is converted once here as Jest will, and dropped with
 * a reason if that fails, because one bad entry would abort Jest's whole report.
 */
export async function buildV8Entries(collected: V8Coverage, options: V8InjectionOptions): Promise<V8Injection> {
  const injection: V8Injection = { entries: [], failed: [], shared: [] }
  for (const [index, scriptCov] of collected.scripts.entries()) {
    if (!scriptCov.url.startsWith('file://')) continue
    const path = fileURLToPath(scriptCov.url)
    try {
      const transform = await transformFor(scriptCov, collected, options)
      if (transform === undefined) continue
      let entry: V8CoverageEntry
      if (transform === 'plain') {
        entry = { codeTransformResult: undefined, result: { ...scriptCov, url: path } }
      } else {
        let url = transform.reported
        if (options.takenUrls.has(url)) {
          if (transform.map.sources.length === 1 && transform.reported === path) injection.shared.push(path)
          url = join(options.dir, `${index}-${basename(path)}`)
          await writeFile(url, transform.code)
        }
        const sourceMapPath = join(options.dir, `${index}-${basename(path)}.map`)
        await writeFile(sourceMapPath, JSON.stringify(transform.map))
        entry = { codeTransformResult: { code: transform.code, originalCode: transform.originalCode, sourceMapPath }, result: { ...scriptCov, url } }
      }
      await checkEntry(entry)
      options.takenUrls.add(entry.result.url)
      injection.entries.push(entry)
    } catch (error) {
      injection.failed.push({ path, reason: error instanceof Error ? error.message : String(error) })
    }
  }
  return injection
}
