// @bcoe/v8-coverage ships no types; these are what we use (src/coverage/merge-v8.ts).
declare module '@bcoe/v8-coverage' {
  import type { FunctionCov, ProcessCov, RangeCov, ScriptCov } from '../coverage/v8-types.js'
  export function mergeProcessCovs(processCovs: readonly ProcessCov[]): ProcessCov
  export function mergeFunctionCovs(funcCovs: readonly FunctionCov[]): FunctionCov
  export function compareScriptCovs(a: ScriptCov, b: ScriptCov): number
  export function compareFunctionCovs(a: FunctionCov, b: FunctionCov): number
  export function compareRangeCovs(a: RangeCov, b: RangeCov): number
  export class RangeTree {
    static fromSortedRanges(ranges: readonly RangeCov[]): RangeTree
    normalize(): void
    toRanges(): RangeCov[]
  }
}
