import type { BranchMapping, FunctionMapping, Range } from 'istanbul-lib-coverage'
import type { PlainPlan } from './convert-plain.js'

// The stored form of a conversion plan (plan-store.ts): compact, because a first run writes one per
// file (as JSON the maps and their `meta.seen` index were 2 MB for express's 130 files, and
// writing them cost a first conversion ~17 %). Locations become 4 numbers, and `meta.seen` (the
// converter's "location key → id" index, part of its output) is not stored at all but rebuilt from
// the maps and the order ids were made in. `pack` checks that the rebuild gives exactly the index
// it was given, and stores nothing otherwise: what `unpack` returns is the plan, key for key.

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

const locKey = ({ start, end }: Range): string => `${start.line}:${start.column}:${end.line}:${end.column}`

/** The key convert-plain.ts gives id `id` of map `kind` in `meta.seen`. */
function seenKey(kind: string, id: number, statementMap: Record<string, Range>, fnMap: Record<string, FunctionMapping>, branchMap: Record<string, BranchMapping>): string {
  if (kind === 's') return `s:${locKey(statementMap[id]!)}`
  if (kind === 'f') return `f:${locKey(fnMap[id]!.decl)}`
  let key = 'b'
  for (const location of branchMap[id]!.locations) key += `:${locKey(location)}`
  return key
}

/** `meta.seen` as convert-plain.ts builds it, from the maps and the order their ids were made in. */
function seenOf(order: string, statementMap: Record<string, Range>, fnMap: Record<string, FunctionMapping>, branchMap: Record<string, BranchMapping>): Record<string, number> {
  const seen: Record<string, number> = {}
  const next: Record<string, number> = { s: 0, f: 0, b: 0 }
  for (const kind of order) {
    const id = next[kind]!++
    seen[seenKey(kind, id, statementMap, fnMap, branchMap)] = id
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
  if (!dense(statementMap, meta.lastStatement) || !dense(fnMap, meta.lastFunction) || !dense(branchMap, meta.lastBranch)) return undefined
  // The order ids were made in: `seen` lists every id once, in insertion order. Each of its keys
  // must be the one `seenOf` gives back, or the plan is not stored.
  let order = ''
  const next: Record<string, number> = { s: 0, f: 0, b: 0 }
  for (const key in meta.seen) {
    const kind = key[0]!
    const id = next[kind]!++
    if (meta.seen[key] !== id || seenKey(kind, id, statementMap as Record<string, Range>, fnMap, branchMap) !== key) return undefined
    order += kind
  }
  return {
    plan: rest,
    maps: {
      path,
      order,
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
  return { ...packed.plan, maps: { path: stored.path, statementMap, fnMap, branchMap, meta } as Maps }
}
