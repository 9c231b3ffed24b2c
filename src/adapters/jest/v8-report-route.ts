import type { CoverageMapData } from 'istanbul-lib-coverage'
import { createRequire } from 'node:module'
import { coverageMapTarget, mergeInto } from '../../coverage/merge-into.js'
import { ServerCoverageError } from '../../errors.js'
import { unmatchedMessage } from '../../messages.js'

// Jest's v8 provider builds its report only from raw V8 entries (`testResult.v8Coverage`): in
// CoverageReporter._getCoverageResult (Jest 29.7 and 30.x alike) the map is created fresh from the
// converted V8 data, and istanbul data on a test result (`testResult.coverage`) is ignored. There
// is no public route for coverage that is not V8 (a Python server's Coverage.py data). The one
// seam both versions share is that method: we wrap it on the CoverageReporter class the running
// Jest loaded, and add the pending istanbul data to the map it returns — before Jest writes its
// reports and checks `coverageThreshold`, both of which use that map. If a Jest version lacks the
// seam, global setup fails and names what to use instead; data is never dropped silently.
// The report context Jest returns next to the map lists its files when it is created
// (istanbul-lib-report's SummarizerFactory), so after adding files it is created again, with
// Jest's own istanbul-lib-report and the same dir, watermarks and source finder.

const WRAPPED = Symbol.for('server-coverage.jest.v8-route')

interface ReportContextLike {
  dir: string
  watermarks: unknown
  sourceFinder: unknown
}

interface CoverageResult {
  map: unknown
  reportContext: ReportContextLike
}

interface CoverageReporterClass {
  prototype: { _getCoverageResult?: (...args: unknown[]) => Promise<CoverageResult>; [WRAPPED]?: boolean }
}

interface LibReport {
  createContext(options: { coverageMap: unknown; dir: string; watermarks: unknown; sourceFinder: unknown }): ReportContextLike
}

interface RouteState {
  pending: CoverageMapData[]
  log: (line: string) => void
}

function routeState(): RouteState {
  const slot = globalThis as unknown as Record<symbol, RouteState | undefined>
  slot[WRAPPED] ??= { pending: [], log: () => {} }
  return slot[WRAPPED]
}

const REPORTERS_MODULE = /[\\/]@jest[\\/]reporters[\\/]build[\\/](index|CoverageReporter)\.js$/
const CORE_MODULE = /[\\/]@jest[\\/]core[\\/]build[\\/][^\\/]+\.js$/

function coverageReporterOf(exports: unknown): CoverageReporterClass | undefined {
  const module = exports as { CoverageReporter?: unknown; default?: unknown } | undefined
  const candidate = (module?.CoverageReporter ?? module?.default) as CoverageReporterClass | undefined
  return candidate && typeof candidate.prototype?._getCoverageResult === 'function' ? candidate : undefined
}

/**
 * The CoverageReporter class of the running Jest: the module in the cache (29: its own file, 30:
 * the bundle), else loaded the way the running `@jest/core` will load it (Jest 30 runs the global
 * setup before it builds its reporters).
 */
function runningCoverageReporter(): { reporter: CoverageReporterClass; libReport: LibReport } | undefined {
  const require = createRequire(import.meta.url)
  const ids = Object.keys(require.cache)
  const found = (id: string, exports: unknown): { reporter: CoverageReporterClass; libReport: LibReport } | undefined => {
    const reporter = coverageReporterOf(exports)
    return reporter && { reporter, libReport: createRequire(id)('istanbul-lib-report') as LibReport }
  }
  for (const id of ids) {
    const result = REPORTERS_MODULE.test(id) ? found(id, require.cache[id]?.exports) : undefined
    if (result) return result
  }
  const core = ids.find((id) => CORE_MODULE.test(id))
  if (!core) return undefined
  try {
    const fromCore = createRequire(core)
    const path = fromCore.resolve('@jest/reporters')
    return found(path, fromCore(path)) ?? found(path, createRequire(path)('./CoverageReporter'))
  } catch {
    return undefined
  }
}

/**
 * Makes sure the running Jest's v8 report can take istanbul data; throws `UNSUPPORTED` naming
 * what to use instead when it cannot. Idempotent.
 */
export function installV8Route(log: (line: string) => void): void {
  const running = runningCoverageReporter()
  if (!running) {
    throw new ServerCoverageError(
      'UNSUPPORTED',
      "this Jest's v8 coverage provider offers no way to add a Python server's coverage (Coverage.py data is not V8): " +
        "set `coverageProvider: 'babel'` in the Jest config, or run the tests through `server-coverage run`.",
    )
  }
  routeState().log = log
  const proto = running.reporter.prototype
  if (proto[WRAPPED]) return
  const original = proto._getCoverageResult!
  const { libReport } = running
  proto[WRAPPED] = true
  proto._getCoverageResult = async function (this: unknown, ...args: unknown[]): Promise<CoverageResult> {
    const result = await original.apply(this, args)
    const state = routeState()
    const pending = state.pending.splice(0)
    if (pending.length === 0) return result
    const target = coverageMapTarget(result.map as never)
    for (const data of pending) {
      for (const [file, count] of mergeInto(target, data)) state.log(unmatchedMessage(file, count, "Jest's map of it"))
    }
    const { dir, watermarks, sourceFinder } = result.reportContext
    return { ...result, reportContext: libReport.createContext({ coverageMap: result.map, dir, watermarks, sourceFinder }) }
  }
}

/** Queues istanbul data for the next v8 report of this Jest process. */
export function addToV8Report(data: CoverageMapData): void {
  routeState().pending.push(data)
}
