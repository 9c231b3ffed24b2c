import type { CoverageMapData, FileCoverageData, Range } from 'istanbul-lib-coverage'
import type { Location } from './identity-locator.js'
import type { ScriptCov } from './v8-types.js'
import { resolve } from 'node:path'
import { IdentityLocator, NotPlain, ignoreHints } from './identity-locator.js'
import { countsAt } from './v8-counts.js'

// ast-v8-to-istanbul 1.0.8 (what Vitest 4.1 and 5 convert with) for the common case, a script
// without a source map, without its source-map round trip (identity-locator.ts): over half of the
// library's time and most of a wide conversion (bench/). The walk, ids, names, counts and `meta`
// follow the library line by line, so the output is the library's, key for key;
// test/unit/convert-plain.test.ts checks it against the library on real packages, with acorn and
// with Vitest's parser. Anything else returns undefined and the caller uses the library: a source
// map or a `sourceMappingURL` comment, a path its URL resolution could rewrite, a node it would
// reject.
//
// A conversion is split in two: the plan (the walk: maps, and the offset each count is read at),
// which depends only on the code, and its application to a script's V8 ranges. A plan can be kept
// and applied to the next coverage of the same code: no parse, no walk (watch-mode collections).
// Upstream: https://github.com/AriPerkkio/ast-v8-to-istanbul/blob/main/src (ast.ts,
// coverage-mapper.ts, coverage-map.ts, index.ts).

interface Node {
  type: string
  start: number
  end: number
  [key: string]: unknown
}

interface Meta {
  lastBranch: number
  lastFunction: number
  lastStatement: number
  seen: Record<string, number>
  fnNames: Map<string, number>
}

/** A file's maps; `order` (not part of the output) says which map each new id went to, in turn: `s`, `f` or `b` (plan-pack.ts rebuilds `meta.seen` from it). */
type FileMaps = Pick<FileCoverageData, 'path' | 'statementMap' | 'fnMap' | 'branchMap'> & { meta: Meta; order: string }

/**
 * A plain script's conversion before counts: its maps (shared, never modified, by every file
 * coverage made from it), the offsets its counts are read at (ascending), and which of them each
 * entry reads, by index: a statement keeps its last read, a function adds its reads, a branch
 * adds each call's reads by position (a read `~index` is the count there minus the call's
 * previous read: an `if` without `else`).
 */
export interface PlainPlan {
  maps: FileMaps | undefined
  offsets: number[]
  statements: number[]
  functions: number[][]
  branches: { size: number; calls: number[][] }[]
}

/** Characters that @jridgewell/resolve-uri may read as URL syntax in a path. */
const URL_SYNTAX = /[?#%\\]/
const SOURCE_MAPPING_URL = /#\s*sourceMappingURL=(.*)\s*$/m
/** ESTree node types that never contain another node. */
const LEAVES = new Set(['Identifier', 'Literal', 'ThisExpression', 'Super', 'TemplateElement', 'PrivateIdentifier', 'EmptyStatement'])

/** Whether the library would take the path this module reproduces for `code` at `path`. */
export function isPlainScript(code: string, path: string): boolean {
  return !URL_SYNTAX.test(path) && resolve(path) === path && !SOURCE_MAPPING_URL.test(code)
}

// coverage-map.ts, verbatim but for the counts: ids in discovery order, one entry per location.
function pickLocation(location: Location): Range {
  return { start: { line: location.start.line, column: location.start.column }, end: { line: location.end.line, column: location.end.column } }
}

function cacheKey(location: Pick<Location, 'start' | 'end'>): string {
  return `${location.start.line}:${location.start.column}:${location.end.line}:${location.end.column}`
}

/** The keys of `meta.seen` (one id per location: a location seen again gets its id back); plan-pack.ts rebuilds the index with them. */
export const functionKey = (decl: Pick<Location, 'start' | 'end'>): string => `f:${cacheKey(decl)}`
export const statementKey = (loc: Pick<Location, 'start' | 'end'>): string => `s:${cacheKey(loc)}`
export const branchKey = (locations: Pick<Location, 'start' | 'end'>[]): string => ['b', ...locations.map(cacheKey)].join(':')

function addFunction(maps: FileMaps, loc: Location, decl: Location, name: string | undefined): number {
  const meta = maps.meta
  const key = functionKey(decl)
  let id = meta.seen[key]
  if (id == null) {
    id = meta.lastFunction
    meta.lastFunction++
    meta.seen[key] = id
    maps.order += 'f'
    let unique = name
    if (unique) {
      const base = unique
      let count = (meta.fnNames.get(base) || 0) + 1
      for (unique = count > 1 ? `${base}_${count}` : base; meta.fnNames.has(unique); ) count++, (unique = `${base}_${count}`)
      meta.fnNames.set(base, count)
      if (unique !== base) meta.fnNames.set(unique, 0)
    }
    maps.fnMap[id] = { name: unique || `(anonymous_${id})`, decl: pickLocation(decl), loc: pickLocation(loc), line: loc.start.line }
  }
  return id
}

function addStatement(maps: FileMaps, loc: Location): number {
  const meta = maps.meta
  const key = statementKey(loc)
  let id = meta.seen[key]
  if (id == null) {
    id = meta.lastStatement
    meta.lastStatement++
    meta.seen[key] = id
    maps.order += 's'
    maps.statementMap[id] = pickLocation(loc)
  }
  return id
}

function addBranch(maps: FileMaps, loc: Location, locations: Location[], type: string): number {
  const meta = maps.meta
  const key = branchKey(locations)
  let id = meta.seen[key]
  if (id == null) {
    id = meta.lastBranch
    meta.lastBranch++
    meta.seen[key] = id
    maps.order += 'b'
    maps.branchMap[id] = { loc: pickLocation(loc), type, locations: locations.map((location) => pickLocation(location)), line: loc.start.line }
  }
  return id
}

function functionName(node: Node | undefined): string | undefined {
  if (!node) return undefined
  if (node.type === 'Identifier') return node['name'] as string
  if ('id' in node && node['id']) return functionName(node['id'] as Node)
  if ('key' in node && node['key']) return functionName(node['key'] as Node)
  return undefined
}

function isNode(value: unknown): value is Node {
  return value !== null && typeof value === 'object' && 'type' in value && typeof (value as Node).type === 'string'
}

const UNDEFINED_LOCATION = { start: { line: undefined, column: undefined }, end: { line: undefined, column: undefined } } as unknown as Location

/**
 * The plan of a plain script (see `isPlainScript`), or undefined where the library must decide.
 * `ast` is the host parser's ESTree Program for `code`; it is modified the way the library modifies it.
 */
export async function planPlain(path: string, code: string, ast: unknown): Promise<PlainPlan | undefined> {
  const plan: PlainPlan = { maps: undefined, offsets: [], statements: [], functions: [], branches: [] }
  const hints = await ignoreHints(code)
  if (hints.length === 1 && hints[0]!.type === 'file') return plan
  const locator = new IdentityLocator(code)
  const maps: FileMaps = { path, statementMap: {}, fnMap: {}, branchMap: {}, meta: { lastBranch: 0, lastFunction: 0, lastStatement: 0, seen: {}, fnNames: new Map() }, order: '' }
  plan.maps = maps
  const methodValues = new WeakSet<object>()
  const skipped = new WeakSet<object>()
  /** The node whose subtree an ignore hint (or a skipped branch) hides, until the walk leaves it. */
  let ignored: Node | false = false
  const hintOf = (node: { start: number }): string | null => {
    for (const hint of hints) if (hint.loc.end === node.start) return hint.type
    return null
  }

  // CoverageMapper.onFunction / onStatement / onBranch (wrapperLength 0, no ignore callbacks).
  const onFunction = (node: Node, loc: { start: number; end: number }, decl: { start: number; end: number }, count?: Node): void => {
    const location = locator.getLoc(loc)
    if (location === null) return
    const declLocation = locator.getLoc(decl)
    if (declLocation === null) return
    const id = addFunction(maps, location, declLocation, functionName(node))
    ;(plan.functions[id] ??= []).push((count || node).start)
  }
  const onStatement = (node: Node, countNode?: Node): void => {
    const location = locator.getLoc(node)
    if (location === null) return
    plan.statements[addStatement(maps, location)] = (countNode || node).start
  }
  const onBranch = (type: string, node: Node, branches: (Node | null | undefined)[]): void => {
    const location = locator.getLoc(node)
    if (location === null) return
    const locations: Location[] = []
    const reads: number[] = []
    for (const branch of branches) {
      if (!branch) {
        locations.push(UNDEFINED_LOCATION)
        reads.push(~node.start)
        continue
      }
      const branchLocation = locator.getLoc(branch)
      if (branchLocation !== null) locations.push(branchLocation)
      reads.push(branch.start + +(branch.type === 'BlockStatement'))
    }
    if (type === 'if' && locations.length > 0) locations[0] = location
    if (locations.length === 0) return
    const id = addBranch(maps, location, locations, type)
    ;(plan.branches[id] ??= { size: locations.length, calls: [] }).calls.push(reads)
  }
  const asBlock = (node: Node): Node => ({ type: 'BlockStatement', body: [node], start: node.start, end: node.end })

  // ast.ts `getWalker().walk` with no ignore hints and no `ignoreClassMethods`, over estree-walker's order.
  const enter = (node: Node): void => {
    if (ignored !== false) return
    const hint = hintOf(node)
    if (hint === 'next') {
      ignored = node
      return
    }
    if (skipped.has(node) && node.type !== 'LogicalExpression') ignored = node
    switch (node.type) {
      case 'FunctionDeclaration':
        return onFunction(node, node['body'] as Node, (node['id'] as Node | null) || { ...node, end: node.start + 1 })
      case 'FunctionExpression':
        if (methodValues.has(node)) return
        return onFunction(node, node['body'] as Node, (node['id'] as Node | null) || { ...node, end: node.start + 1 })
      case 'MethodDefinition': {
        const value = node['value'] as Node
        if (value.type === 'FunctionExpression') methodValues.add(value)
        return onFunction(node, value['body'] as Node, { start: node.start, end: node.start + 1 }, value)
      }
      case 'Property': {
        const value = node['value'] as Node
        if (value.type !== 'FunctionExpression') return
        methodValues.add(value)
        return onFunction(node, value['body'] as Node, node['key'] as Node)
      }
      case 'ArrowFunctionExpression': {
        if ((node['body'] as Node | undefined)?.type === 'ParenthesizedExpression') node['body'] = (node['body'] as Node)['expression']
        const body = node['body'] as Node
        onFunction(node, body, { ...node, end: node.start + 1 })
        if (body.type !== 'BlockStatement') onStatement(body, node)
        return
      }
      case 'ExpressionStatement': {
        const expression = node['expression'] as Node
        if (expression.type !== 'Literal' || expression['value'] !== 'use strict') onStatement(node)
        return
      }
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'DebuggerStatement':
      case 'ReturnStatement':
      case 'ThrowStatement':
      case 'TryStatement':
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement':
      case 'WhileStatement':
      case 'DoWhileStatement':
      case 'WithStatement':
      case 'LabeledStatement':
        return onStatement(node)
      case 'VariableDeclarator':
        if (node['init']) onStatement(node['init'] as Node, node)
        return
      case 'ClassBody':
        for (const member of node['body'] as Node[]) {
          if ((member.type === 'PropertyDefinition' || member.type === 'ClassProperty' || member.type === 'ClassPrivateProperty') && member['value']) onStatement(member['value'] as Node)
        }
        return
      case 'IfStatement': {
        if ((node['consequent'] as Node).type !== 'BlockStatement') node['consequent'] = asBlock(node['consequent'] as Node)
        if (node['alternate'] && (node['alternate'] as Node).type !== 'BlockStatement') node['alternate'] = asBlock(node['alternate'] as Node)
        const branches: (Node | null | undefined)[] = []
        if (hint === 'if') skipped.add(node['consequent'] as Node)
        else branches.push(node['consequent'] as Node)
        if (hint === 'else' && node['alternate']) skipped.add(node['alternate'] as Node)
        else if (hint !== 'if' && hint !== 'else') branches.push(node['alternate'] as Node | null | undefined)
        onBranch('if', node, branches)
        return onStatement(node)
      }
      case 'SwitchStatement':
        onBranch('switch', node, (node['cases'] as Node[]).filter((branch) => hintOf(branch) !== 'next'))
        return onStatement(node)
      case 'ConditionalExpression': {
        if ((node['consequent'] as Node).type === 'ParenthesizedExpression') node['consequent'] = (node['consequent'] as Node)['expression']
        if ((node['alternate'] as Node).type === 'ParenthesizedExpression') node['alternate'] = (node['alternate'] as Node)['expression']
        const branches: Node[] = []
        for (const branch of [node['consequent'] as Node, node['alternate'] as Node]) {
          if (hintOf(branch) === 'next') skipped.add(branch)
          else branches.push(branch)
        }
        return onBranch('cond-expr', node, branches)
      }
      case 'LogicalExpression': {
        if (skipped.has(node)) return
        const operands: Node[] = []
        const visit = (operand: Node): void => {
          if (operand.type === 'ParenthesizedExpression') return visit(operand['expression'] as Node)
          if (operand.type === 'LogicalExpression') {
            skipped.add(operand)
            if (hintOf(operand) !== 'next') {
              visit(operand['left'] as Node)
              visit(operand['right'] as Node)
              return
            }
          }
          operands.push(operand)
        }
        visit(node)
        return onBranch('binary-expr', node, operands)
      }
      case 'AssignmentPattern':
        return onBranch('default-arg', node, [node['right'] as Node])
      case 'ClassMethod':
      case 'ObjectMethod':
        // Babel's node types: no ESTree parser gives them; let the library handle such an AST.
        throw new NotPlain()
    }
  }
  // estree-walker 3: enter, then every own enumerable property in order (read after enter, which
  // may replace it), arrays item by item, anything with a string `type` being a node; then leave.
  const walk = (node: Node): void => {
    // Leaves hold no node and enter() does nothing for them (an ignore hint on one would end with it).
    if (LEAVES.has(node.type)) return
    enter(node)
    for (const key in node) {
      const value = node[key]
      if (!value || typeof value !== 'object') continue
      if (Array.isArray(value)) {
        for (const item of value) if (isNode(item)) walk(item)
      } else if (isNode(value)) walk(value)
    }
    if (node === ignored) ignored = false
  }
  try {
    if (!isNode(ast)) throw new NotPlain()
    walk(ast)
  } catch (error) {
    if (error instanceof NotPlain) return undefined
    throw error
  }
  // Reads were recorded as offsets: make them indexes into the sorted offsets.
  plan.offsets = [...new Set([...plan.statements, ...plan.functions.flat(), ...plan.branches.flatMap(({ calls }) => calls.flat().map((read) => (read < 0 ? ~read : read)))])].sort((a, b) => a - b)
  const indexOf = new Map(plan.offsets.map((offset, index) => [offset, index]))
  const index = (read: number): number => (read < 0 ? ~indexOf.get(~read)! : indexOf.get(read)!)
  plan.statements = plan.statements.map(index)
  plan.functions = plan.functions.map((reads) => reads.map(index))
  for (const branch of plan.branches) branch.calls = branch.calls.map((reads) => reads.map(index))
  return plan
}

/** A plan applied to one coverage of its script: ast-v8-to-istanbul's output for it. */
export function applyPlan(plan: PlainPlan, scriptCov: ScriptCov): CoverageMapData {
  if (!plan.maps) return {}
  const at = countsAt(scriptCov, plan.offsets)
  const s: Record<string, number> = {}
  const f: Record<string, number> = {}
  const b: Record<string, number[]> = {}
  plan.statements.forEach((read, id) => (s[id] = at[read] || 0))
  plan.functions.forEach((reads, id) => (f[id] = reads.reduce((sum, read) => sum + (at[read] || 0), 0)))
  plan.branches.forEach(({ size, calls }, id) => {
    const counts = new Array<number>(size).fill(0)
    for (const reads of calls) {
      const covered: number[] = []
      for (const read of reads) covered.push(read >= 0 ? at[read]! : at[~read]! - (covered.at(-1) || 0))
      covered.forEach((count, index) => {
        if (counts[index] !== undefined) counts[index] += count
      })
    }
    b[id] = counts
  })
  const { path, statementMap, fnMap, branchMap, meta } = plan.maps
  return { [path]: { path, statementMap, fnMap, branchMap, s, f, b, meta } as FileCoverageData }
}

/** ast-v8-to-istanbul's output for a plain script, or undefined where the library must decide. */
export async function convertPlain(path: string, code: string, ast: unknown, scriptCov: ScriptCov): Promise<CoverageMapData | undefined> {
  const plan = await planPlain(path, code, ast)
  return plan && applyPlan(plan, scriptCov)
}
