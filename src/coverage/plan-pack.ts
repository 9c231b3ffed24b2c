import type { BranchMapping, FunctionMapping, Range } from 'istanbul-lib-coverage'
import type { PlainPlan } from './convert-plain.js'
import { branchKey, functionKey, statementKey } from './convert-plain.js'

// The stored form of a conversion plan (plan-store.ts): compact, because a first run writes one per
// file (as JSON the maps and their `meta.seen` index were 2 MB for express's 130 files, and
// writing them cost a first conversion ~17 %). Locations become 4 numbers, and `meta.seen` (the
// converter's "location key → id" index, part of its output) is not stored at all but rebuilt from
// the maps and the order ids were made in (`order`), with the converter's own key functions: what
// `unpack` returns is the plan, key for key (test/unit/plan-store.test.ts).

type Maps = NonNullable<PlainPlan['maps']>
/** start line, start column, end line, end column; -1 = Infinity (to the end of the line), -2 = undefined (unplaced). */
type Loc = [number, number, number, number]

/** What is written. */
export interface PackedPlan {
  plan: Omit<PlainPlan, 'maps'>
  maps?: {
    path: string
    /** Which map each id of `meta.seen` belongs to, in the order they were made: `s`, `f` or `b`. */
    order: string
    fnNames: [string, number][]
    statements: Loc[]
    functions: [string, Loc, Loc, number][]
    branches: [Loc, string, Loc[], number][]
  }
}

const toNumber = (value: number | undefined): number => (value === undefined ? -2 : value === Infinity ? -1 : value)
const fromNumber = (value: number): number | undefined => (value === -2 ? undefined : value === -1 ? Infinity : value)
const toLoc = ({ start, end }: Range): Loc => [toNumber(start.line), toNumber(start.column), toNumber(end.line), toNumber(end.column)]
const fromLoc = ([startLine, startColumn, endLine, endColumn]: Loc): Range =>
  ({ start: { line: fromNumber(startLine), column: fromNumber(startColumn) }, end: { line: fromNumber(endLine), column: fromNumber(endColumn) } }) as Range

/** `meta.seen` as convert-plain.ts builds it (with its own key functions), from the maps and the order their ids were made in. */
function seenOf(order: string, statementMap: Record<string, Range>, fnMap: Record<string, FunctionMapping>, branchMap: Record<string, BranchMapping>): Record<string, number> {
  const seen: Record<string, number> = {}
  let statement = 0
  let fn = 0
  let branch = 0
  for (const kind of order) {
    if (kind === 's') seen[statementKey(statementMap[statement]!)] = statement++
    else if (kind === 'f') seen[functionKey(fnMap[fn]!.decl)] = fn++
    else seen[branchKey(branchMap[branch]!.locations)] = branch++
  }
  return seen
}

/** Whether `record`'s keys are exactly `0 … count - 1`, in that order. */
function dense(record: object, count: number): boolean {
  let index = 0
  for (const key in record) if (key !== String(index++)) return false
  return index === count
}

/** The plan's stored form, or undefined when its maps are not in the shape unpacking rebuilds exactly. */
export function pack(plan: PlainPlan): PackedPlan | undefined {
  const { maps, ...rest } = plan
  if (!maps) return { plan: rest }
  const { meta, statementMap, fnMap, branchMap, path } = maps
  if (maps.order.length !== meta.lastStatement + meta.lastFunction + meta.lastBranch) return undefined
  if (!dense(statementMap, meta.lastStatement) || !dense(fnMap, meta.lastFunction) || !dense(branchMap, meta.lastBranch)) return undefined
  return {
    plan: rest,
    maps: {
      path,
      order: maps.order,
      fnNames: [...meta.fnNames],
      statements: Object.values(statementMap as Record<string, Range>).map(toLoc),
      functions: Object.values(fnMap).map(({ name, decl, loc, line }) => [name, toLoc(decl), toLoc(loc), toNumber(line)]),
      branches: Object.values(branchMap).map(({ loc, type, locations, line }) => [toLoc(loc), type, locations.map(toLoc), toNumber(line)]),
    },
  }
}

/** The plan `pack` was given. */
export function unpack(packed: PackedPlan): PlainPlan {
  const stored = packed.maps
  if (!stored) return { ...packed.plan, maps: undefined }
  const statementMap: Record<string, Range> = {}
  const fnMap: Record<string, FunctionMapping> = {}
  const branchMap: Record<string, BranchMapping> = {}
  stored.statements.forEach((loc, id) => (statementMap[id] = fromLoc(loc)))
  stored.functions.forEach(([name, decl, loc, line], id) => (fnMap[id] = { name, decl: fromLoc(decl), loc: fromLoc(loc), line: fromNumber(line)! }))
  stored.branches.forEach(([loc, type, locations, line], id) => (branchMap[id] = { loc: fromLoc(loc), type, locations: locations.map(fromLoc), line: fromNumber(line)! }))
  const meta: Maps['meta'] = {
    lastBranch: stored.branches.length,
    lastFunction: stored.functions.length,
    lastStatement: stored.statements.length,
    seen: seenOf(stored.order, statementMap, fnMap, branchMap),
    fnNames: new Map(stored.fnNames),
  }
  return { ...packed.plan, maps: { path: stored.path, statementMap, fnMap, branchMap, meta, order: stored.order } as Maps }
}
