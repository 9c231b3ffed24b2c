import type { FileCoverageData } from 'istanbul-lib-coverage'

const isCounts = (value: unknown): value is Record<string, number> =>
  value !== null && typeof value === 'object' && Object.values(value).every((count) => typeof count === 'number' && Number.isFinite(count) && count >= 0)

const isPosition = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && Number.isInteger((value as { line?: unknown }).line)

const isRange = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && isPosition((value as { start?: unknown }).start) && isPosition((value as { end?: unknown }).end)

/**
 * Whether a value received from a network agent is istanbul file coverage we can use as it is:
 * every map entry has a range and every count is a finite, non-negative number. Anything else is
 * dropped whole (a report must never hold half-trusted data).
 */
export function isFileCoverage(value: unknown): value is FileCoverageData {
  if (value === null || typeof value !== 'object') return false
  const file = value as Record<string, unknown>
  if (typeof file.path !== 'string' || !isCounts(file.s) || !isCounts(file.f)) return false
  if (!Object.values((file.statementMap ?? null) as object).every(isRange)) return false
  if (!Object.values((file.fnMap ?? null) as object).every((fn: { loc?: unknown }) => isRange(fn?.loc))) return false
  const branchMap = file.branchMap as Record<string, { locations?: unknown[] }> | null
  const b = file.b as Record<string, unknown[]> | null
  if (branchMap === null || typeof branchMap !== 'object' || b === null || typeof b !== 'object') return false
  return Object.entries(b).every(([id, hits]) => Array.isArray(hits) && hits.every((hit) => typeof hit === 'number' && hit >= 0) && Array.isArray(branchMap[id]?.locations))
}
