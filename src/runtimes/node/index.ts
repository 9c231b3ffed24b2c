import type { Runtime, RuntimeFactory, RuntimeRead } from '../types.js'
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compileGlobs } from '../../coverage/filter.js'
import { assertCountableOnLoad, instrumentCache, uncountedFileMessages, uncountedThreadsMessage } from './counting-load.js'
import { changedSourceMessages, fullDiskMessage, lostProcessMessages } from './diagnostics.js'
import { CoverageDirReader } from './read-dir.js'

/** The agent every Node process of the server preloads (built next to this file's package dist). */
const AGENT_PATH = join(dirname(dirname(dirname(fileURLToPath(import.meta.url)))), 'agent', 'preload.cjs')

/** `NODE_OPTIONS` with our agent added to whatever the server already had. */
export function nodeOptionsWithAgent(existing: string | undefined): string {
  return [existing ?? '', `--require ${JSON.stringify(AGENT_PATH)}`].filter(Boolean).join(' ')
}

/**
 * The Node runtime: V8's own precise coverage (`NODE_V8_COVERAGE`, inherited by every Node
 * descendant) and our preloaded agent in every process and worker thread. The agent runs with
 * coverage off too: it turns the stop signal into a normal exit and stops orphans.
 *
 * A read takes the coverage files written since the previous read (each `takeCoverage` writes a
 * delta and resets V8's counters, so every file is read once), keeps the scripts the filter
 * wants, and merges them across processes as raw V8. Conversion is the session's next stage.
 *
 * With `counting: 'load'` V8 coverage stays off: the agent instruments the included files as they
 * load and writes their counts as V8 coverage files into the same folder (src/agent/counting.cts),
 * so the reader, filter, merge and converter are the same. What they instrument is cached on disk
 * for the next process and run (`<cwd>/node_modules/.cache/server-coverage`, when `node_modules` exists).
 */
export const createNodeRuntime: RuntimeFactory = async ({ options, dir, coverage, log }) => {
  const v8Dir = join(dir, 'v8')
  const sourcesDir = join(dir, 'sources')
  const serverNodeOptions = options.env.NODE_OPTIONS ?? process.env.NODE_OPTIONS
  const env: Record<string, string> = { NODE_OPTIONS: nodeOptionsWithAgent(serverNodeOptions) }
  const countsOnLoad = coverage && options.counting === 'load'
  if (countsOnLoad) {
    assertCountableOnLoad(options, serverNodeOptions)
    await mkdir(v8Dir, { recursive: true, mode: 0o700 })
    env.SERVER_COVERAGE_COUNTING = 'load'
    env.SERVER_COVERAGE_V8_DIR = v8Dir
    // Compiled here so no server process loads picomatch; the rule decides whether they apply.
    env.SERVER_COVERAGE_SCOPE = JSON.stringify({ cwd: options.cwd, include: options.include, exclude: options.exclude, compiled: compileGlobs(options.include, options.exclude) })
    const cache = instrumentCache(options.cwd)
    if (cache) Object.assign(env, { SERVER_COVERAGE_CACHE: cache.dir, SERVER_COVERAGE_CACHE_ID: cache.id })
  } else if (coverage) {
    await mkdir(v8Dir, { recursive: true, mode: 0o700 })
    await mkdir(sourcesDir, { mode: 0o700 })
    env.NODE_V8_COVERAGE = v8Dir
    env.SERVER_COVERAGE_SOURCES = sourcesDir
  }
  const reader = new CoverageDirReader(v8Dir)
  const lostReported = new Set<number>()
  const changedReported = new Set<string>()
  const startedAt = Date.now()
  let fullDiskReported = false
  let threadsReported = false
  const uncountedReported = new Set<string>()

  const runtime: Runtime = {
    env,
    async verify() {
      // V8 coverage cannot fail to start: NODE_V8_COVERAGE is read by Node itself.
    },
    async read({ final, filter, agents }): Promise<RuntimeRead> {
      if (!coverage) return { coverage: { format: 'v8', scripts: [], sourceMaps: {}, sourcesDirs: [] }, processes: 0, files: 0 }
      const read = await reader.read(filter.script, final)
      if (countsOnLoad) {
        for (const line of await uncountedFileMessages(options.name, v8Dir, uncountedReported)) log(line)
        const line = threadsReported ? undefined : uncountedThreadsMessage(options.name, agents)
        if (line) log(line)
        threadsReported ||= line !== undefined
      }
      for (const line of lostProcessMessages(options.name, agents, (pid) => reader.latestWrite.get(`${pid}/0`) ?? 0, lostReported)) log(line)
      if (read.corrupt.length > 0) {
        log(`skipped ${read.corrupt.length} unreadable coverage file(s) of "${options.name}" (truncated or corrupt): ${read.corrupt.join(', ')}`)
      }
      if ((read.corrupt.length > 0 || read.pending.length > 0) && !fullDiskReported) {
        const full = await fullDiskMessage(v8Dir)
        if (full) log(full)
        fullDiskReported = full !== undefined
      }
      for (const line of changedSourceMessages(read.processCov.result.map((script) => script.url), startedAt, changedReported)) log(line)
      return {
        coverage: { format: 'v8', scripts: read.processCov.result, sourceMaps: read.sourceMaps, sourcesDirs: [sourcesDir] },
        processes: read.threads.size,
        files: read.files,
      }
    },
  }
  return runtime
}
