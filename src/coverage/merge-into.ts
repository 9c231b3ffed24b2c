import type { BranchMapping, CoverageMapData, FileCoverageData, FunctionMapping, Range } from 'istanbul-lib-coverage'

// THE rule for adding two coverage maps, written once; every front end calls `mergeInto`:
//
// - a file only the source has is added (the target adopts the source's object: do not reuse it);
// - a file both have is added **by location**: statements, functions and branches with the same
//   location add their counts; ids do not matter;
// - a location the target lacks is never added: when both sides describe one file with different
//   maps (transformed differently), the target's map is kept and nothing is counted twice; the
//   covered locations left out are returned, for one message (`unmatchedMessage`);
// - counts add up, except for data whose counts are hits (0/1, Coverage.py): those combine as
//   "ran in any" (`coverage combine`), so a line hit in two reads or two servers stays 1;
// - a target file with no hit at all (an "untested file" placeholder a runner lists for its
//   `include`) takes the source's map instead: nothing is lost to a placeholder's other transform.

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

/** Whether a file's data has no hit at all. */
export function hasNoHits(file: FileCoverageData): boolean {
  return (
    Object.values(file.s).every((hits) => !hits) &&
    Object.values(file.f).every((hits) => !hits) &&
    Object.values(file.b).every((hits) => hits.every((hit) => !hit))
  )
}

/** How counts of the same location combine. */
export type Counts = 'executions' | 'hits'

/**
 * Adds the hits of `source` onto `target` (mutated) by location. Returns how many of `source`'s
 * covered locations had no counterpart in `target` (left out).
 */
export function addByLocation(target: FileCoverageData, source: FileCoverageData, counts: Counts = 'executions'): number {
  const add = counts === 'hits' ? (a: number, b: number): number => (a || b ? 1 : 0) : (a: number, b: number): number => a + b
  let unmatched = 0
  const statements = indexBy(target.statementMap, rangeKey)
  for (const [id, range] of Object.entries(source.statementMap)) {
    const hits = source.s[id] ?? 0
    const targetId = statements.get(rangeKey(range))
    if (targetId === undefined) unmatched += hits > 0 ? 1 : 0
    else target.s[targetId] = add(target.s[targetId] ?? 0, hits)
  }
  const functions = indexBy(target.fnMap, functionKey)
  for (const [id, fn] of Object.entries(source.fnMap)) {
    const hits = source.f[id] ?? 0
    const targetId = functions.get(functionKey(fn))
    if (targetId === undefined) unmatched += hits > 0 ? 1 : 0
    else target.f[targetId] = add(target.f[targetId] ?? 0, hits)
  }
  const branches = indexBy(target.branchMap, branchKey)
  for (const [id, branch] of Object.entries(source.branchMap)) {
    const hits = source.b[id] ?? []
    const targetId = branches.get(branchKey(branch))
    const targetHits = targetId === undefined ? undefined : target.b[targetId]
    if (targetHits === undefined || targetHits.length !== hits.length) unmatched += hits.some((h) => h > 0) ? 1 : 0
    else hits.forEach((h, i) => (targetHits[i] = add(targetHits[i] ?? 0, h)))
  }
  return unmatched
}

/**
 * Where coverage is merged into: plain `CoverageMapData`, or a runner's own istanbul `CoverageMap`
 * (another copy of istanbul-lib-coverage: only its data is touched, never its classes).
 */
export interface MergeTarget {
  get(file: string): FileCoverageData | undefined
  /** Adds a file the target does not have, or replaces a placeholder. */
  set(file: string, data: FileCoverageData): void
}

/** A `MergeTarget` over plain data. */
export function dataTarget(data: CoverageMapData): MergeTarget {
  return {
    get: (file) => data[file] as FileCoverageData | undefined,
    set: (file, fileCoverage) => void (data[file] = fileCoverage),
  }
}

/**
 * A runner's own istanbul `CoverageMap` (Vitest's, Jest's: another copy of istanbul-lib-coverage)
 * as a merge target: only its data is read and its public methods called, because an instance
 * of our copy's classes would be rejected there.
 */
export function coverageMapTarget(map: { data: object; filter(keep: (file: string) => boolean): void; addFileCoverage(data: FileCoverageData): void }): MergeTarget {
  const files = map.data as Record<string, { data: FileCoverageData } | undefined>
  return {
    get: (file) => files[file]?.data,
    set: (file, data) => {
      if (files[file]) map.filter((known) => known !== file)
      map.addFileCoverage(data)
    },
  }
}

/** Covered locations of the source that had no counterpart, by file. */
export type Unmatched = Map<string, number>

/**
 * Merges `source` into `target` by the rule above. `source`'s file objects may be adopted by the
 * target. `counts: 'hits'` when both sides hold 0/1 hit flags (Coverage.py data).
 */
export function mergeInto(target: CoverageMapData | MergeTarget, source: CoverageMapData, counts: Counts = 'executions'): Unmatched {
  const into = typeof (target as MergeTarget).get === 'function' && typeof (target as MergeTarget).set === 'function' ? (target as MergeTarget) : dataTarget(target as CoverageMapData)
  const unmatched: Unmatched = new Map()
  for (const [file, data] of Object.entries(source)) {
    const fileCoverage = data as FileCoverageData
    const existing = into.get(file)
    if (!existing || (hasNoHits(existing) && !hasNoHits(fileCoverage))) {
      into.set(file, fileCoverage)
      continue
    }
    const count = addByLocation(existing, fileCoverage, counts)
    if (count > 0) unmatched.set(file, (unmatched.get(file) ?? 0) + count)
  }
  return unmatched
}
