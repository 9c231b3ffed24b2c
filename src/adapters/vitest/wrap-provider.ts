import type { CoverageMap, CoverageMapData } from 'istanbul-lib-coverage'
import type { CoverageProvider, ReportContext } from 'vitest/node'
import type { ParseFn } from '../../coverage/convert.js'
import { coverageMapTarget, mergeInto } from '../../coverage/merge-into.js'
import { PREFIX, unmatchedMessage } from '../../messages.js'
import { importFromProject, projectPackageVersion } from './resolve.js'
import { projects } from './state.js'

/** The part of Vitest's base provider we rely on besides the public interface. */
type BuiltinProvider = CoverageProvider & { isIncluded?: (file: string) => boolean }

let vitestParser: ParseFn | undefined

/**
 * Vitest's own parser, so the statement maps equal the ones Vitest builds for the same file; one
 * function for the whole run (the converter keeps plans per parser), named with Vitest's version so
 * plans made with it can be kept on disk for the next run (src/coverage/plan-store.ts).
 */
async function vitestParse(): Promise<ParseFn> {
  if (vitestParser) return vitestParser
  const { parseAstAsync } = await importFromProject<typeof import('vitest/node')>('vitest/node')
  const version = projectPackageVersion('vitest')
  const parse = (code: string): Promise<unknown> => parseAstAsync(code)
  return (vitestParser = version ? Object.assign(parse, { cacheKey: `vitest-parseAstAsync@${version}` }) : parse)
}

/** Flushes every project's servers and collects what ran since the previous report, per project. */
async function collectServers(provider: BuiltinProvider): Promise<CoverageMapData[]> {
  const parse = await vitestParse()
  const filter = provider.isIncluded ? (file: string) => provider.isIncluded!(file) : undefined
  const sessions = [...projects().values()].flatMap((state) => (state.session ? [state.session] : []))
  const collected = await Promise.all(sessions.map((session) => session.collect({ parse, ...(filter ? { filter } : {}) })))
  return collected.map(({ data }) => data)
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
    const [servers, coverage] = await Promise.all([collectServers(provider as BuiltinProvider), generateCoverage(context)])
    const map = coverage as CoverageMap
    // The core's one rule: a file the tests also ran is added by location, several projects'
    // servers running one file add up, nothing is counted twice.
    const target = coverageMapTarget(map as never)
    for (const data of servers) {
      for (const [file, count] of mergeInto(target, data)) process.stderr.write(`${PREFIX}${unmatchedMessage(file, count, "Vitest's statement map of it")}\n`)
    }
    return map
  }
  return provider
}
