import type { CoverageMap, CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import type { CoverageProvider, ReportContext } from 'vitest/node'
import { mergeFileCoverageInto } from '../../coverage/merge-map.js'
import { importFromProject } from './resolve.js'
import { projects } from './state.js'

/** The part of Vitest's base provider we rely on besides the public interface. */
type BuiltinProvider = CoverageProvider & { isIncluded?: (file: string) => boolean }

/**
 * Adds server data to Vitest's map. Files Vitest already has (unit-tested, or listed as untested
 * through `coverage.include`) are merged by location onto Vitest's own statement map, so a file run
 * by both the tests and the server is counted once; new files are added as they are.
 */
function mergeServerData(map: CoverageMap, data: CoverageMapData): Map<string, number> {
  const unmatched = new Map<string, number>()
  const known = new Set(map.files())
  for (const [file, fileCoverage] of Object.entries(data)) {
    if (!known.has(file)) {
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
