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

const WRAPPED = Symbol.for('server-coverage.jest.v8-route')

interface CoverageReporterClass {
  prototype: { _getCoverageResult?: (...args: unknown[]) => Promise<{ map: unknown }>; [WRAPPED]?: boolean }
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

/** The CoverageReporter class of the running Jest: the one in the module cache (29: its own file, 30: the bundle). */
function loadedCoverageReporter(): CoverageReporterClass | undefined {
  const cache = createRequire(import.meta.url).cache
  for (const [id, module] of Object.entries(cache)) {
    if (!/[\\/]@jest[\\/]reporters[\\/]build[\\/](index|CoverageReporter)\.js$/.test(id)) continue
    const exports = module?.exports as { CoverageReporter?: unknown; default?: unknown } | undefined
    const candidate = (exports?.CoverageReporter ?? exports?.default) as CoverageReporterClass | undefined
    if (candidate && typeof candidate.prototype?._getCoverageResult === 'function') return candidate
  }
  return undefined
}

/**
 * Makes sure the running Jest's v8 report can take istanbul data; throws `UNSUPPORTED` naming
 * what to use instead when it cannot. Idempotent.
 */
export function installV8Route(log: (line: string) => void): void {
  const reporter = loadedCoverageReporter()
  if (!reporter) {
    throw new ServerCoverageError(
      'UNSUPPORTED',
      "this Jest's v8 coverage provider offers no way to add a Python server's coverage (Coverage.py data is not V8): " +
        "set `coverageProvider: 'babel'` in the Jest config, or run the tests through `server-coverage run`.",
    )
  }
  routeState().log = log
  const proto = reporter.prototype
  if (proto[WRAPPED]) return
  const original = proto._getCoverageResult!
  proto[WRAPPED] = true
  proto._getCoverageResult = async function (this: unknown, ...args: unknown[]) {
    const result = await original.apply(this, args)
    const state = routeState()
    const target = coverageMapTarget(result.map as never)
    for (const data of state.pending.splice(0)) {
      for (const [file, count] of mergeInto(target, data)) state.log(unmatchedMessage(file, count, "Jest's map of it"))
    }
    return result
  }
}

/** Queues istanbul data for the next v8 report of this Jest process. */
export function addToV8Report(data: CoverageMapData): void {
  routeState().pending.push(data)
}
