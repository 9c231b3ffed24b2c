import type { CoverageMapData } from 'istanbul-lib-coverage'
import libCoverage from 'istanbul-lib-coverage'
import libReport from 'istanbul-lib-report'
import reports from 'istanbul-reports'
import { ServerCoverageError } from '../errors.js'

export const REPORTERS = ['text', 'text-summary', 'html', 'lcov', 'lcovonly', 'json', 'json-summary', 'cobertura', 'clover', 'teamcity'] as const
export type ReporterName = (typeof REPORTERS)[number]

/** Validates a `--reporter` list. */
export function parseReporters(value: string): ReporterName[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean)
  for (const name of names) {
    if (!(REPORTERS as readonly string[]).includes(name)) {
      throw new ServerCoverageError('INVALID_OPTION', `expected the \`--reporter\` option to list some of ${REPORTERS.join(', ')}, got \`${name}\`.`)
    }
  }
  return names as ReporterName[]
}

/** Writes istanbul reports for `data` into `dir` (text reporters print to stdout). */
export function writeReports(data: CoverageMapData, reporters: readonly ReporterName[], dir: string, projectRoot: string): void {
  const context = libReport.createContext({ dir, coverageMap: libCoverage.createCoverageMap(data) })
  for (const name of reporters) reports.create(name, { projectRoot } as never).execute(context)
}
