import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { FunctionCov } from '../coverage/v8-types.js'
import type { Run } from './runs.js'
import type { LoadedSourceMap, SourceMapResult } from './source-map.js'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import astV8ToIstanbul from 'ast-v8-to-istanbul'
import { mergeInto } from '../coverage/merge-into.js'
import { parseWithAcorn } from '../coverage/parse.js'
import { FileLocator } from './locate.js'
import { remapCounts } from './remap.js'
import { addRuns, paintCounts, runsOf } from './runs.js'
import { fetchText as defaultFetchText, loadSourceMap } from './source-map.js'

// Browser side, in each Playwright worker: the scripts a page ran (Chromium's precise coverage)
// become counts per character of files on disk, through the scripts' source maps. Nothing is
// converted here: the runner converts each file once, the way the server's files are converted.

/** One script as `page.coverage.stopJSCoverage()` returns it. */
export interface BrowserScript {
  url: string
  source?: string
  functions: FunctionCov[]
}

/** The browser's counts of one file on disk. `sha1` is of the text they describe. */
export interface BrowserFileCounts {
  sha1: string
  length: number
  runs: Run[]
}

/**
 * What a worker hands to the runner: counts by absolute path; istanbul data of originals that are
 * not JavaScript (TypeScript, JSX: converted from the bundle, see `#convertFromBundle`); and
 * messages to print once.
 */
export interface BrowserCounts {
  files: Record<string, BrowserFileCounts>
  istanbul: CoverageMapData
  notes: string[]
}

export interface BrowserMapperOptions {
  /** Folders under which the files of served scripts and map sources are looked for. */
  roots: readonly string[]
  fetchText?: (url: string) => Promise<string>
}

/** Originals the converter can read back as they are (it parses JavaScript). */
const JAVASCRIPT = /\.[cm]?js$/

interface ScriptPlan {
  /** Source index → file, for a mapped script; `direct` for a script that is itself a file. */
  originals: Map<number, { path: string; text: string; sha1: string }>
  /** Source index → file, for originals that are not JavaScript. */
  others: Map<number, { path: string; text: string }>
  direct: { path: string; sha1: string } | undefined
  map: LoadedSourceMap | undefined
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex')
}

/** Accumulates the counts of the scripts pages ran; `take()` hands them over. */
export class BrowserCoverageMapper {
  readonly #locator: FileLocator
  readonly #root: string
  readonly #fetchText: (url: string) => Promise<string>
  readonly #plans = new Map<string, Promise<ScriptPlan>>()
  #files: Record<string, BrowserFileCounts> = {}
  #istanbul: CoverageMapData = {}
  #notes = new Set<string>()

  constructor(options: BrowserMapperOptions) {
    this.#locator = new FileLocator(options.roots)
    this.#root = options.roots[0] ?? process.cwd()
    this.#fetchText = options.fetchText ?? defaultFetchText
  }

  /** Adds the counts of these scripts. Never throws: what cannot be used becomes a note. */
  async add(scripts: readonly BrowserScript[]): Promise<void> {
    for (const script of scripts) {
      if (script.source === undefined || !/^(https?|file):/.test(script.url)) continue
      try {
        const key = `${script.url}\n${sha1(script.source)}`
        let plan = this.#plans.get(key)
        if (!plan) {
          plan = this.#plan(script.url, script.source)
          this.#plans.set(key, plan)
        }
        await this.#apply(script, await plan)
      } catch (error) {
        this.#notes.add(`browser script ${script.url} could not be mapped: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }

  /** A message for the runner to print once. */
  note(text: string): void {
    this.#notes.add(text)
  }

  /** What was added since the previous `take()`. */
  take(): BrowserCounts {
    const counts = { files: this.#files, istanbul: this.#istanbul, notes: [...this.#notes] }
    this.#files = {}
    this.#istanbul = {}
    this.#notes = new Set()
    return counts
  }

  /** Where a script's code lives on disk: through its source map, or the script itself is a file. */
  async #plan(url: string, source: string): Promise<ScriptPlan> {
    const plan: ScriptPlan = { originals: new Map(), others: new Map(), direct: undefined, map: undefined }
    const loaded: SourceMapResult = await loadSourceMap(url, source, this.#fetchText)
    if ('map' in loaded) {
      plan.map = loaded.map
      await this.#locateSources(url, loaded.map, plan)
      return plan
    }
    // No usable map: the script counts only if it is a file of the project, served as it is.
    const located = await this.#locator.find(url, source)
    if (located && 'path' in located) plan.direct = { path: located.path, sha1: sha1(located.text) }
    else if ('error' in loaded) this.#notes.add(`browser script ${url}: ${loaded.error}; left out of the report`)
    return plan
  }

  async #locateSources(url: string, map: LoadedSourceMap, plan: ScriptPlan): Promise<void> {
    for (const [index, source] of map.sources.entries()) {
      if (source == null || source.includes('/node_modules/') || source.startsWith('\0')) continue
      const located = await this.#locator.find(source, map.sourcesContent[index] ?? undefined)
      if (located === undefined) continue
      if ('changed' in located) {
        this.#notes.add(`${located.changed} changed since ${url} was built (its source map holds other text); its browser coverage is left out`)
        continue
      }
      if (JAVASCRIPT.test(located.path)) plan.originals.set(index, { ...located, sha1: sha1(located.text) })
      else plan.others.set(index, located)
    }
  }

  async #apply(script: BrowserScript, plan: ScriptPlan): Promise<void> {
    const source = script.source!
    const counts = paintCounts(script.functions, source.length)
    if (plan.direct) {
      this.#addFile(plan.direct.path, plan.direct.sha1, source.length, runsOf(counts))
      return
    }
    if (plan.map && plan.others.size > 0) await this.#convertFromBundle(script, plan.map, plan.others)
    if (!plan.map || plan.originals.size === 0) return
    const texts = new Map([...plan.originals].map(([index, original]) => [index, original.text]))
    for (const [index, remapped] of remapCounts(source, counts, plan.map.mappings, texts)) {
      const original = plan.originals.get(index)!
      if (remapped.outOfRange > 0) {
        this.#notes.add(`the source map of ${script.url} does not fit ${original.path} (${remapped.outOfRange} mappings point past its text); its browser coverage is left out`)
        continue
      }
      this.#addFile(original.path, original.sha1, original.text.length, remapped.runs)
    }
  }

  /**
   * Originals the converter cannot parse (TypeScript, JSX) are converted the usual way instead:
   * the bundle's own statements, mapped back through its source map. Their statement map is the
   * bundle's, so a module the server also runs may not line up with the server's map (the merge
   * then keeps one map and says so, never counting twice).
   */
  async #convertFromBundle(script: BrowserScript, map: LoadedSourceMap, others: ScriptPlan['others']): Promise<void> {
    const code = script.source!
    const sourceMap = {
      version: 3,
      sources: map.sources.map((source, index) => (others.has(index) ? pathToFileURL(others.get(index)!.path).href : source)),
      sourcesContent: map.sources.map((_, index) => others.get(index)?.text ?? map.sourcesContent[index] ?? null),
      names: [],
      mappings: map.mappings,
    }
    const data = (await astV8ToIstanbul({
      code,
      ast: parseWithAcorn(code) as never,
      // The bundle has no file of its own: any absolute URL serves (sources are absolute above).
      coverage: { url: pathToFileURL(join(this.#root, '.browser-bundle.js')).href, functions: script.functions },
      wrapperLength: 0,
      sourceMap: sourceMap as never,
    })) as CoverageMapData
    const wanted = new Set([...others.values()].map((other) => other.path))
    mergeInto(this.#istanbul, Object.fromEntries(Object.entries(data).filter(([path]) => wanted.has(path))))
  }

  #addFile(path: string, hash: string, length: number, runs: Run[]): void {
    const existing = this.#files[path]
    if (existing && existing.sha1 === hash) existing.runs = addRuns(existing.runs, runs)
    else this.#files[path] = { sha1: hash, length, runs }
  }
}
