import type { CoverageMap, CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import type { CoverageProvider, ReportContext } from 'vitest/node'
import { mergeFileCoverageInto } from '../../coverage/merge-map.js'
import { importFromProject } from './resolve.js'
import { projects } from './state.js'

/** The part of Vitest's base provider we rely on besides the public interface. */
type BuiltinProvider = CoverageProvider & { isIncluded?: (file: string) => boolean }

function hasHits(file: FileCoverageData): boolean {
  return Object.values(file.s).some((hits) => hits > 0) || Object.values(file.f).some((hits) => hits > 0)
}

/**
 * Adds server data to Vitest's map. A file the tests also ran is merged by location onto Vitest's
 * own statement map, so it is counted once. A file Vitest lists only as an untested placeholder
 * (all zero, through `coverage.include`) is replaced by the server's: for plain JavaScript both
 * maps are equal, and for TypeScript the server's map follows the code the server really ran
 * (another transform than Vite's), so nothing of it is lost to location mismatches.
 */
function mergeServerData(map: CoverageMap, data: CoverageMapData): Map<string, number> {
  const unmatched = new Map<string, number>()
  const known = new Set(map.files())
  const placeholders = new Set(Object.keys(data).filter((file) => known.has(file) && !hasHits(map.fileCoverageFor(file).data)))
  if (placeholders.size > 0) map.filter((file) => !placeholders.has(file))
  for (const [file, fileCoverage] of Object.entries(data)) {
    if (!known.has(file) || placeholders.has(file)) {
      map.addFileCoverage(fileCoverage)
      continue
    }
    const count = mergeFileCoverageInto(map.fileCoverageFor(file).data, fileCoverage as FileCoverageData)
    if (count > 0) unmatched.set(file, count)
  }
  return unmatched
}

/** Flushes every project's servers and collects what ran since the previous report. */
async function collectServers(provider: BuiltinProvider): Promise<CoverageMapData> {
  const data: CoverageMapData = {}
  // Vitest's own parser, so the statement maps equal the ones Vitest builds for the same file.
  const { parseAstAsync } = await importFromProject<typeof import('vitest/node')>('vitest/node')
  for (const state of projects().values()) {
    if (!state.session) continue
    const followVitest = state.servers.every((server) => server.include === undefined && server.exclude === undefined)
    const collected = await state.session.collect({
      parse: parseAstAsync,
      ...(followVitest && provider.isIncluded ? { filter: (file: string) => provider.isIncluded!(file) } : {}),
    })
    Object.assign(data, collected.data)
  }
  return data
}

/**
 * Wraps Vitest's built-in provider so server coverage enters during `generateCoverage`, before
 * Vitest writes reports and checks thresholds (global teardown would be too late).
 */
export function wrapProvider<T extends CoverageProvider>(provider: T): T {
  // A checkpoint after every test file: a server process killed mid-run loses at most one file's worth.
  const onAfterSuiteRun = provider.onAfterSuiteRun.bind(provider)
  provider.onAfterSuiteRun = (meta) => {
    for (const state of projects().values()) void state.session?.checkpoint()
    return onAfterSuiteRun(meta)
  }
  const generateCoverage = provider.generateCoverage.bind(provider)
  provider.generateCoverage = async (context: ReportContext) => {
    const [serverData, coverage] = await Promise.all([collectServers(provider as BuiltinProvider), generateCoverage(context)])
    const map = coverage as CoverageMap
    const unmatched = mergeServerData(map, serverData)
    for (const [file, count] of unmatched) {
      process.stderr.write(
        `server-coverage: ${file} is run by both the tests and the server, and ${count} covered location(s) of the server ` +
          "did not line up with Vitest's statement map; they were left out rather than counted twice.\n",
      )
    }
    return map
  }
  return provider
}
