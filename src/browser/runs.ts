import type { FunctionCov, ScriptCov } from '../coverage/v8-types.js'

// Browser coverage travels as "runs": the execution count of every character of a file, flattened
// (innermost V8 range wins) and run-length encoded. Flat counts add position by position, which
// is what summing several pages, tests and workers needs, and they feed ast-v8-to-istanbul as
// they are (it only looks up the count at each node's start offset).

/** `[start, end, count]` (end exclusive), sorted, non-overlapping; positions not listed ran 0 times. */
export type Run = [start: number, end: number, count: number]

/**
 * The count of every character of a script (length `length`), painting V8's ranges from the
 * largest to the smallest so the innermost range wins, in the order ast-v8-to-istanbul's own
 * normalisation uses (ties: the one that ends first is painted first).
 */
export function paintCounts(functions: readonly FunctionCov[], length: number): Uint32Array {
  const ranges = functions.flatMap((fn) => fn.ranges).filter((range) => range.endOffset > range.startOffset)
  ranges.sort((a, b) => b.endOffset - b.startOffset - (a.endOffset - a.startOffset) || a.endOffset - b.endOffset)
  const counts = new Uint32Array(length)
  for (const range of ranges) counts.fill(range.count, Math.max(0, range.startOffset), Math.min(length, range.endOffset))
  return counts
}

/** Run-length encodes counts, dropping zeros. */
export function runsOf(counts: ArrayLike<number>): Run[] {
  const runs: Run[] = []
  let start = 0
  for (let index = 1; index <= counts.length; index++) {
    if (index < counts.length && counts[index] === counts[start]) continue
    const count = counts[start] ?? 0
    if (count > 0) runs.push([start, index, count])
    start = index
  }
  return runs
}

/** Adds two run lists position by position. */
export function addRuns(a: readonly Run[], b: readonly Run[]): Run[] {
  const cuts = [...new Set([...a, ...b].flatMap(([start, end]) => [start, end]))].sort((x, y) => x - y)
  const countAt = (runs: readonly Run[], position: number, from: { index: number }): number => {
    while (from.index < runs.length && runs[from.index]![1] <= position) from.index++
    const run = runs[from.index]
    return run && run[0] <= position ? run[2] : 0
  }
  const ia = { index: 0 }
  const ib = { index: 0 }
  const sum: Run[] = []
  for (let i = 0; i + 1 < cuts.length; i++) {
    const start = cuts[i]!
    const end = cuts[i + 1]!
    const count = countAt(a, start, ia) + countAt(b, start, ib)
    if (count === 0) continue
    const last = sum.at(-1)
    if (last && last[1] === start && last[2] === count) last[1] = end
    else sum.push([start, end, count])
  }
  return sum
}

/**
 * A V8 script coverage for a file of `length` characters with these runs: one function whose root
 * range (count 0) spans the file, and one child range per run. This is what the server side's
 * converter reads, so the browser's counts land on the statement map built from the file itself.
 */
export function runsToScriptCov(url: string, length: number, runs: readonly Run[]): ScriptCov {
  const ranges = [{ startOffset: 0, endOffset: length, count: 0 }, ...runs.map(([startOffset, endOffset, count]) => ({ startOffset, endOffset, count }))]
  return { scriptId: '0', url, functions: [{ functionName: '', isBlockCoverage: true, ranges }] }
}
