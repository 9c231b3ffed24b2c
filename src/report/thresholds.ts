import type { CoverageMapData, CoverageSummary } from 'istanbul-lib-coverage'
import libCoverage from 'istanbul-lib-coverage'

export const METRICS = ['lines', 'branches', 'functions', 'statements'] as const
export type Metric = (typeof METRICS)[number]
export type Thresholds = Partial<Record<Metric, number>>

/** One unmet threshold: which file (or `global`), which metric, actual vs wanted percent. */
export interface ThresholdFailure {
  scope: string
  metric: Metric
  actual: number
  wanted: number
}

function failuresOf(summary: CoverageSummary, thresholds: Thresholds, scope: string): ThresholdFailure[] {
  const failures: ThresholdFailure[] = []
  for (const metric of METRICS) {
    const wanted = thresholds[metric]
    if (wanted === undefined) continue
    const { pct, total } = summary[metric]
    // Istanbul reports 100% for an empty metric (no branches): nothing to fail there.
    const actual = total === 0 ? 100 : pct
    if (actual < wanted) failures.push({ scope, metric, actual, wanted })
  }
  return failures
}

/** Checks global (or, with `perFile`, every file's) percentages against `thresholds`. */
export function checkThresholds(data: CoverageMapData, thresholds: Thresholds, perFile: boolean): ThresholdFailure[] {
  const map = libCoverage.createCoverageMap(data)
  if (!perFile) return failuresOf(map.getCoverageSummary(), thresholds, 'global')
  return map.files().flatMap((file) => failuresOf(map.fileCoverageFor(file).toSummary(), thresholds, file))
}

/** One line per unmet threshold, naming the metric: the same wording in every front end. */
export function thresholdMessage({ scope, metric, actual, wanted }: ThresholdFailure): string {
  return `${metric} coverage of ${scope === 'global' ? 'all files' : scope} is ${actual}%, below the ${wanted}% threshold`
}
