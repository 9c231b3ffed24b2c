import type { BranchMapping, CoverageMapData, FileCoverageData, FunctionMapping, Range } from 'istanbul-lib-coverage'

/**
 * Converters write `Infinity` as the end column of a node that ends its line, and JSON turns it
 * into `null`: the same location read back from a file must give the same key.
 */
function column(value: number | null | undefined): string {
  return value == null || value === Infinity ? 'end' : String(value)
}

function rangeKey(range: Range): string {
  return `${range.start.line}:${column(range.start.column)}-${range.end.line}:${column(range.end.column)}`
}

function functionKey(fn: FunctionMapping): string {
  return `${rangeKey(fn.decl)}|${rangeKey(fn.loc)}`
}

function branchKey(branch: BranchMapping): string {
  return `${branch.type}|${rangeKey(branch.loc)}|${branch.locations.map(rangeKey).join(',')}`
}

function indexBy<T>(map: Record<string, T>, key: (item: T) => string): Map<string, string> {
  const index = new Map<string, string>()
  for (const [id, item] of Object.entries(map)) if (!index.has(key(item))) index.set(key(item), id)
  return index
}

/**
 * Adds the hits of `source` onto `target` (mutated), matching statements, functions and branches
 * by location. Unlike istanbul's own merge it never adds a location `target` lacks: when both
 * sides describe the same file with different maps, the target's map is kept and nothing is
 * counted twice. Returns how many of `source`'s covered locations had no counterpart.
 */
export function mergeFileCoverageInto(target: FileCoverageData, source: FileCoverageData): number {
  let unmatched = 0
  const statements = indexBy(target.statementMap, rangeKey)
  for (const [id, range] of Object.entries(source.statementMap)) {
    const hits = source.s[id] ?? 0
    const targetId = statements.get(rangeKey(range))
    if (targetId === undefined) unmatched += hits > 0 ? 1 : 0
    else target.s[targetId] = (target.s[targetId] ?? 0) + hits
  }
  const functions = indexBy(target.fnMap, functionKey)
  for (const [id, fn] of Object.entries(source.fnMap)) {
    const hits = source.f[id] ?? 0
    const targetId = functions.get(functionKey(fn))
    if (targetId === undefined) unmatched += hits > 0 ? 1 : 0
    else target.f[targetId] = (target.f[targetId] ?? 0) + hits
  }
  const branches = indexBy(target.branchMap, branchKey)
  for (const [id, branch] of Object.entries(source.branchMap)) {
    const hits = source.b[id] ?? []
    const targetId = branches.get(branchKey(branch))
    const targetHits = targetId === undefined ? undefined : target.b[targetId]
    if (targetHits === undefined || targetHits.length !== hits.length) unmatched += hits.some((h) => h > 0) ? 1 : 0
    else hits.forEach((h, i) => (targetHits[i] = (targetHits[i] ?? 0) + h))
  }
  return unmatched
}

/** Where a merge could not line up both sides' maps: file → covered locations left out. */
export type UnmatchedLocations = Map<string, number>

/** Merges `source` into `target` (mutated): new files are added, shared files merged by location. */
export function mergeCoverageData(target: CoverageMapData, source: CoverageMapData): UnmatchedLocations {
  const unmatched: UnmatchedLocations = new Map()
  for (const [file, fileCoverage] of Object.entries(source)) {
    const existing = target[file]
    if (!existing) {
      target[file] = fileCoverage
      continue
    }
    const count = mergeFileCoverageInto(existing as FileCoverageData, fileCoverage as FileCoverageData)
    if (count > 0) unmatched.set(file, count)
  }
  return unmatched
}
