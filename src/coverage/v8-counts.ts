import type { ScriptCov } from './v8-types.js'

// The count ast-v8-to-istanbul 1.0.8 reads at an offset of a script (script-coverage.ts): every
// V8 range paints its count over its characters, the most specific range last (smallest, then
// the one ending later, then the later one), and an offset reads what is left on it; 0 where no
// range is. The library paints a Uint32Array as long as the script (an event sweep above 2e6
// characters, which does not wrap counts past 2^32), then binary-searches flattened runs. Here
// only the offsets a plan reads are answered, by one sweep: the same numbers without an array
// per script per collection, which was most of what a watch-mode collection allocated (bench/).
// Upstream: https://github.com/AriPerkkio/ast-v8-to-istanbul/blob/main/src/script-coverage.ts

interface Painted {
  start: number
  end: number
  count: number
  area: number
  order: number
}

/** Whether `a` is painted after `b` where both cover an offset (the library's sort, then its stable order). */
function paintedAfter(a: Painted, b: Painted): boolean {
  return a.area < b.area || (a.area === b.area && (a.end > b.end || (a.end === b.end && a.order > b.order)))
}

/** The count at each of `offsets` (ascending), as the library reads it. */
export function countsAt(scriptCov: ScriptCov, offsets: readonly number[]): number[] {
  const painted: Painted[] = []
  let order = 0
  let max = 0
  for (const fn of scriptCov.functions) {
    for (const range of fn.ranges) {
      const area = range.endOffset - range.startOffset
      if (range.endOffset > max) max = range.endOffset
      if (area > 0) painted.push({ start: range.startOffset, end: range.endOffset, count: range.count, area, order: order++ })
      else order++
    }
  }
  // The library's array holds Uint32 counts; its sweep (scripts over 2e6 characters) keeps them as they are.
  const wraps = max <= 2e6
  painted.sort((a, b) => a.start - b.start)
  const counts: number[] = new Array<number>(offsets.length)
  const active: Painted[] = []
  let next = 0
  for (const [index, offset] of offsets.entries()) {
    while (next < painted.length && painted[next]!.start <= offset) active.push(painted[next++]!)
    let top: Painted | undefined
    let kept = 0
    for (const range of active) {
      if (range.end <= offset) continue
      active[kept++] = range
      if (!top || paintedAfter(range, top)) top = range
    }
    active.length = kept
    counts[index] = top === undefined || offset >= max ? 0 : wraps ? top.count >>> 0 : top.count
  }
  return counts
}
