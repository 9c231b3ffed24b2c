import type { FunctionCov, ProcessCov, RangeCov, ScriptCov } from './v8-types.js'
import { compareFunctionCovs, compareRangeCovs, compareScriptCovs, mergeFunctionCovs, RangeTree } from '@bcoe/v8-coverage'

// @bcoe/v8-coverage's mergeProcessCovs (what c8 merges with), with the same result, value for value
// and in the same order, but without a range tree per copy of a function where every copy has the
// same ranges: a function that never ran or ran without blocks of their own (one range), or the
// same blocks in every process (cluster workers serving the same requests). The library turns every
// copy into a tree, merges the trees, normalises and flattens the result, on every merge and every
// normalisation: 85 % of what reading a 16-worker watch-mode collection allocated (bench/), garbage
// that grew the runner's heap. Other functions go through the library itself.
// test/unit/merge-v8.test.ts compares both on real coverage of processes that served different requests.

/**
 * Function coverages this module made or normalised: normalised already, and normalising is
 * idempotent. The reader merges copies as it reads, then merges its result once more to sort it,
 * and watch mode merges each read into what it had: without this, every function with blocks was
 * turned into a tree again at each of those steps.
 */
const normalized = new WeakSet<FunctionCov>()

function done(funcCov: FunctionCov): FunctionCov {
  normalized.add(funcCov)
  return funcCov
}

/** The library's normalizeFunctionCov: sort the ranges, then normalise them as a tree. */
function normalizeFunctionCov(funcCov: FunctionCov): void {
  if (funcCov.ranges.length === 1 || normalized.has(funcCov)) return
  funcCov.ranges.sort(compareRangeCovs)
  const tree = RangeTree.fromSortedRanges(funcCov.ranges)
  tree.normalize()
  funcCov.ranges = tree.toRanges()
  normalized.add(funcCov)
}

/** Whether every copy has the same ranges (offsets) as the first: V8 gave them the same blocks. */
function sameLayout(funcCovs: FunctionCov[]): boolean {
  const first = funcCovs[0]!.ranges
  for (let i = 1; i < funcCovs.length; i++) {
    const ranges = funcCovs[i]!.ranges
    if (ranges.length !== first.length) return false
    for (let r = 0; r < ranges.length; r++) if (ranges[r]!.startOffset !== first[r]!.startOffset || ranges[r]!.endOffset !== first[r]!.endOffset) return false
  }
  return true
}

/**
 * The library's mergeFunctionCovs. Where every copy has the same ranges, the merged tree is that
 * layout with every count summed (a tree's deltas are differences of counts, so summing counts
 * sums deltas): one tree is built from the sums and normalised as the library normalises its
 * merge, instead of one per copy plus the merge. With one range each, it is the sum itself.
 */
function mergeFunctionCovsFast(funcCovs: FunctionCov[]): FunctionCov {
  if (funcCovs.length === 1) {
    normalizeFunctionCov(funcCovs[0]!)
    return funcCovs[0]!
  }
  if (!sameLayout(funcCovs)) return done(mergeFunctionCovs(funcCovs))
  const summed: RangeCov[] = funcCovs[0]!.ranges.map((range) => ({ startOffset: range.startOffset, endOffset: range.endOffset, count: 0 }))
  for (const funcCov of funcCovs) for (let r = 0; r < summed.length; r++) summed[r]!.count += funcCov.ranges[r]!.count
  let ranges = summed
  if (summed.length > 1) {
    const tree = RangeTree.fromSortedRanges(summed)
    tree.normalize()
    ranges = tree.toRanges()
  }
  return done({ functionName: funcCovs[0]!.functionName, ranges, isBlockCoverage: !(ranges.length === 1 && ranges[0]!.count === 0) })
}

/** The library's mergeScriptCovs (the same grouping by root range, block-level copies preferred). */
function mergeScriptCovs(scriptCovs: ScriptCov[]): ScriptCov {
  if (scriptCovs.length === 1) {
    const merged = scriptCovs[0]!
    for (const funcCov of merged.functions) normalizeFunctionCov(funcCov)
    merged.functions.sort(compareFunctionCovs)
    return merged
  }
  const rangeToFuncs = new Map<string, FunctionCov[]>()
  for (const scriptCov of scriptCovs) {
    for (const funcCov of scriptCov.functions) {
      const root = funcCov.ranges[0]!
      const key = `${root.startOffset};${root.endOffset}`
      let funcCovs = rangeToFuncs.get(key)
      if (funcCovs === undefined || (!funcCovs[0]!.isBlockCoverage && funcCov.isBlockCoverage)) {
        funcCovs = []
        rangeToFuncs.set(key, funcCovs)
      } else if (funcCovs[0]!.isBlockCoverage && !funcCov.isBlockCoverage) {
        continue
      }
      funcCovs.push(funcCov)
    }
  }
  const functions: FunctionCov[] = []
  for (const funcCovs of rangeToFuncs.values()) functions.push(mergeFunctionCovsFast(funcCovs))
  functions.sort(compareFunctionCovs)
  return { scriptId: scriptCovs[0]!.scriptId, url: scriptCovs[0]!.url, functions }
}

/**
 * Merges process coverages as @bcoe/v8-coverage's mergeProcessCovs does: scripts matched by URL,
 * functions by root range, sorted by URL with script ids reassigned. Inputs may be mutated.
 */
export function mergeProcessCovs(processCovs: readonly ProcessCov[]): ProcessCov {
  const urlToScripts = new Map<string, ScriptCov[]>()
  for (const processCov of processCovs) {
    for (const scriptCov of processCov.result) {
      let scriptCovs = urlToScripts.get(scriptCov.url)
      if (scriptCovs === undefined) urlToScripts.set(scriptCov.url, (scriptCovs = []))
      scriptCovs.push(scriptCov)
    }
  }
  const result: ScriptCov[] = []
  for (const scriptCovs of urlToScripts.values()) result.push(mergeScriptCovs(scriptCovs))
  result.sort(compareScriptCovs)
  for (const [index, scriptCov] of result.entries()) scriptCov.scriptId = index.toString(10)
  return { result }
}
