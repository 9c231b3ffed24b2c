import type { CoverageMapData, FileCoverageData, Range } from 'istanbul-lib-coverage'
import type { ScriptCov } from './v8-types.js'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

// ast-v8-to-istanbul 1.0.8 (what Vitest 4.1 and 5 convert with) for the common case — a script
// without a source map — computed without its source-map round trip.
//
// For such a script the library builds an identity source map with one segment per token
// (`\w+`, or any single other character) and locates every node through @jridgewell/trace-mapping
// (`originalPositionFor`, `allGeneratedPositionsFor`): over half of its time, and most of a wide
// conversion (bench/). Through an identity map those lookups reduce to:
// - a start is the start of the token at or before it;
// - an end is where the token holding the node's last character ends, or `Infinity` when that
//   token ends its line.
// Everything else (walk order, ids, names, counts, `meta`) follows the library line by line, so
// the output is the library's, key for key (ignore hints included, tokenized by the library's own
// js-tokens); `test/unit/convert-plain.test.ts` checks it against the library on real code.
// Anything outside that case returns undefined and the caller uses the library itself: a source
// map or a `sourceMappingURL` comment, a path that the library's URL resolution could rewrite, a
// node it would reject.
// Upstream: https://github.com/AriPerkkio/ast-v8-to-istanbul/blob/main/src (ast.ts, location.ts,
// coverage-mapper.ts, coverage-map.ts, script-coverage.ts, index.ts).

interface Node {
  type: string
  start: number
  end: number
  [key: string]: unknown
}

interface Position {
  line: number
  column: number
}

interface Location {
  start: Position
  end: Position
}

interface NormalRange {
  start: number
  end: number
  count: number
}

/** The library's patterns, verbatim (ignore-hints.ts, location.ts). */
const SOURCE_MAPPING_URL = /#\s*sourceMappingURL=(.*)\s*$/m
const HINT_AT_START = /^\s*(?:istanbul|[cv]8|node:coverage)\s+ignore\s+(if|else|next|file)(?=\W|$)/
const ANY_HINT = /(?:istanbul|[cv]8|node:coverage)\s+ignore\s+(if|else|next|file)(?=\W|$)/
const IGNORE_LINES = /\s*(?:istanbul|[cv]8|node:coverage)\s+ignore\s+(start|stop)(?=\W|$)/
const NEWLINE = /\r?\n/g
/** Characters that @jridgewell/resolve-uri may read as URL syntax in a path. */
const URL_SYNTAX = /[?#%\\]/

/** Thrown where the library would behave differently (or throw): the caller falls back to it. */
class NotPlain extends Error {}

interface Hint {
  type: 'if' | 'else' | 'next' | 'file'
  loc: { start: number; end: number }
}

type Tokenize = (code: string) => Iterable<{ type: string; value: string }>
let jsTokens: Promise<Tokenize> | undefined

/** The library's own js-tokens (the version it resolves), so comments are found exactly where it finds them. */
function loadTokenizer(): Promise<Tokenize> {
  jsTokens ??= (async () => {
    const library = createRequire(import.meta.url).resolve('ast-v8-to-istanbul')
    const tokens = (await import(pathToFileURL(createRequire(library).resolve('js-tokens')).href)) as { default: Tokenize }
    return tokens.default
  })()
  return jsTokens
}

/** ignore-hints.ts `getIgnoreHints`: `if`/`else`/`next` comments and where the code they precede starts. */
async function ignoreHints(code: string): Promise<Hint[]> {
  if (!code.includes('ignore') || !ANY_HINT.test(code)) return []
  const hints: Hint[] = []
  let offset = 0
  let open = false
  for (const token of (await loadTokenizer())(code)) {
    if (open && token.type !== 'WhiteSpace' && token.type !== 'LineTerminatorSequence') {
      const last = hints.at(-1)
      if (last) last.loc.end = offset
      open = false
    }
    if (token.type === 'SingleLineComment' || token.type === 'MultiLineComment') {
      const loc = { start: offset, end: offset + token.value.length }
      const type = token.value
        .replace(/^\/\*\*/, '')
        .replace(/^\/\*/, '')
        .replace(/\*\*\/$/, '')
        .replace(/\*\/$/, '')
        .replace(/^\/\//, '')
        .match(HINT_AT_START)?.[1]
      if (type === 'file') return [{ type: 'file', loc: { start: 0, end: 0 } }]
      if (type === 'if' || type === 'else' || type === 'next') {
        hints.push({ type, loc })
        open = true
      }
    }
    offset += token.value.length
  }
  return hints
}

/** ignore-hints.ts `getIgnoredLines`: lines between `ignore start` and `ignore stop` comments. */
function ignoredLines(code: string): Set<number> {
  const ranges: { start: number; stop: number }[] = []
  let line = 0
  for (const text of code.split(NEWLINE)) {
    line++
    const match = text.match(IGNORE_LINES)
    if (!match) continue
    if (match[1] === 'stop') {
      const last = ranges.at(-1)
      if (last && last.stop === Infinity) last.stop = line
      continue
    }
    ranges.push({ start: line, stop: Infinity })
  }
  const lines = new Set<number>()
  for (const range of ranges) {
    for (let at = range.start; at <= range.stop; at++) {
      lines.add(at)
      if (at >= line) break
    }
  }
  return lines
}

function isWord(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95
}

/** Offsets → lines and the identity map's token starts. Lines are 1-based, columns 0-based. */
class IdentityLocator {
  readonly #code: string
  readonly #lineStarts: number[] = [0]
  readonly #ignoredLines: Set<number>

  constructor(code: string) {
    this.#code = code
    // Only a line that matches can start a range; `includes` first: the pattern's leading `\s*` is slow on big files.
    this.#ignoredLines = code.includes('ignore') && IGNORE_LINES.test(code) ? ignoredLines(code) : new Set()
    for (let index = 0; index < code.length; index++) if (code.charCodeAt(index) === 10) this.#lineStarts.push(index + 1)
  }

  #offsetToNeedle(offset: number): Position {
    let low = 0
    let high = this.#lineStarts.length - 1
    while (low <= high) {
      const middle = (low + high) >> 1
      if (this.#lineStarts[middle]! <= offset) low = middle + 1
      else high = middle - 1
    }
    return { line: high + 1, column: offset - this.#lineStarts[high]! }
  }

  #lineLength(line: number): number {
    const start = this.#lineStarts[line - 1]!
    const next = this.#lineStarts[line]
    return next === undefined ? this.#code.length - start : next - 1 - start
  }

  #wordPair(line: number, column: number): boolean {
    const at = this.#lineStarts[line - 1]! + column
    return column > 0 && isWord(this.#code.charCodeAt(at)) && isWord(this.#code.charCodeAt(at - 1))
  }

  /** `originalPositionFor` (greatest lower bound, then least upper bound) through the identity map. */
  #position(line: number, column: number): Position | null {
    if (column < 0) throw new NotPlain()
    if (line > this.#lineStarts.length) return null
    const length = this.#lineLength(line)
    if (length === 0) return null
    let start = Math.min(column, length - 1)
    while (this.#wordPair(line, start)) start--
    return { line, column: start }
  }

  /** The column of the first token after the token starting at `column`, or Infinity at the end of the line. */
  #tokenEnd(line: number, column: number): number {
    const length = this.#lineLength(line)
    let next = column + 1
    while (next < length && this.#wordPair(line, next)) next++
    return next < length ? next : Infinity
  }

  /** The library's `Locator.getLoc`, for an identity map. */
  getLoc(node: { start: number; end: number }): Location | null {
    const startNeedle = this.#offsetToNeedle(node.start)
    const start = this.#position(startNeedle.line, startNeedle.column)
    if (start === null) return null
    const endNeedle = this.#offsetToNeedle(node.end)
    endNeedle.column--
    let end = this.#position(endNeedle.line, endNeedle.column)
    for (let line = endNeedle.line; end === null && line >= startNeedle.line; line--) end = this.#position(line, Infinity)
    if (end === null) return null
    if (this.#ignoredLines.has(start.line)) return null
    return { start, end: { line: end.line, column: this.#tokenEnd(end.line, end.column) } }
  }
}

// ast-v8-to-istanbul's script-coverage.ts, verbatim: V8 ranges → flat counts by offset.
function normalize(scriptCov: ScriptCov, threshold = 2e6): NormalRange[] {
  if (scriptCov.functions.length === 0) return []
  let order = 0
  const ranges = scriptCov.functions.flatMap((fn) =>
    fn.ranges.map((range) => ({ start: range.startOffset, end: range.endOffset, count: range.count, area: range.endOffset - range.startOffset, order: order++ })),
  )
  let max = 0
  for (const range of ranges) if (range.end > max) max = range.end
  return max <= threshold ? normalizeWithHitsArray(ranges, max) : normalizeWithEventSweep(ranges)
}

type AreaRange = NormalRange & { area: number; order: number }

function normalizeWithHitsArray(ranges: AreaRange[], max: number): NormalRange[] {
  ranges.sort((a, b) => {
    const area = b.area - a.area
    return area === 0 ? a.end - b.end : area
  })
  const hits = new Uint32Array(max)
  for (const range of ranges) hits.fill(range.count, range.start, range.end)
  const normalized: NormalRange[] = []
  let from = 0
  for (let index = 1; index <= hits.length; index++) {
    const last = index === hits.length
    const value = last ? null : hits[index]
    const current = hits[from]!
    if (value !== current || last) {
      normalized.push({ start: from, end: index - 1, count: current })
      from = index
    }
  }
  return normalized
}

function normalizeWithEventSweep(ranges: AreaRange[]): NormalRange[] {
  const events: { offset: number; range: AreaRange; isStart: boolean }[] = []
  for (const range of ranges) {
    if (range.start < range.end) {
      events.push({ offset: range.start, range, isStart: true })
      events.push({ offset: range.end, range, isStart: false })
    }
  }
  events.sort((a, b) => a.offset - b.offset)
  const active: AreaRange[] = []
  const normalized: NormalRange[] = []
  let previous = events.length > 0 ? events[0]!.offset : 0
  let index = 0
  while (index < events.length) {
    const offset = events[index]!.offset
    if (active.length > 0 && previous < offset) {
      const count = mostSpecific(active).count
      const last = normalized.at(-1)
      if (last && last.end + 1 === previous && last.count === count) last.end = offset - 1
      else normalized.push({ start: previous, end: offset - 1, count })
    }
    while (index < events.length && events[index]!.offset === offset) {
      const event = events[index]!
      if (event.isStart) active.push(event.range)
      else active.splice(active.indexOf(event.range), 1)
      index++
    }
    previous = offset
  }
  return normalized
}

function mostSpecific(ranges: AreaRange[]): AreaRange {
  let best = ranges[0]!
  for (let index = 1; index < ranges.length; index++) {
    const range = ranges[index]!
    if (range.area < best.area || (range.area === best.area && range.end > best.end) || (range.area === best.area && range.end === best.end && range.order > best.order)) best = range
  }
  return best
}

function countAt(offset: number, ranges: NormalRange[]): number {
  let low = 0
  let high = ranges.length - 1
  while (low <= high) {
    const middle = Math.floor((low + high) / 2)
    const range = ranges[middle]!
    if (range.start <= offset && offset <= range.end) return range.count
    if (offset < range.start) high = middle - 1
    else low = middle + 1
  }
  return 0
}

// ast-v8-to-istanbul's coverage-map.ts, verbatim: ids in discovery order, one entry per location.
interface Meta {
  lastBranch: number
  lastFunction: number
  lastStatement: number
  seen: Record<string, number>
  fnNames: Map<string, number>
}

type FileData = FileCoverageData & { meta: Meta }

function pickLocation(location: Location): Range {
  return { start: { line: location.start.line, column: location.start.column }, end: { line: location.end.line, column: location.end.column } }
}

function cacheKey(location: Location): string {
  return `${location.start.line}:${location.start.column}:${location.end.line}:${location.end.column}`
}

function addFunction(file: FileData, covered: number, loc: Location, decl: Location, name: string | undefined): void {
  const meta = file.meta
  const key = `f:${cacheKey(decl)}`
  let id = meta.seen[key]
  if (id == null) {
    id = meta.lastFunction
    meta.lastFunction++
    meta.seen[key] = id
    let unique = name
    if (unique) {
      const base = unique
      let count = (meta.fnNames.get(base) || 0) + 1
      for (unique = count > 1 ? `${base}_${count}` : base; meta.fnNames.has(unique); ) count++, (unique = `${base}_${count}`)
      meta.fnNames.set(base, count)
      if (unique !== base) meta.fnNames.set(unique, 0)
    }
    file.fnMap[id] = { name: unique || `(anonymous_${id})`, decl: pickLocation(decl), loc: pickLocation(loc), line: loc.start.line }
  }
  file.f[id] = (file.f[id] || 0) + (covered || 0)
}

function addStatement(file: FileData, loc: Location, covered: number): void {
  const meta = file.meta
  const key = `s:${cacheKey(loc)}`
  let id = meta.seen[key]
  if (id == null) {
    id = meta.lastStatement
    meta.lastStatement++
    meta.seen[key] = id
    file.statementMap[id] = pickLocation(loc)
  }
  file.s[id] = covered || 0
}

function addBranch(file: FileData, loc: Location, locations: Location[], type: string, covered: number[]): void {
  const meta = file.meta
  const key = ['b', ...locations.map(cacheKey)].join(':')
  let id = meta.seen[key]
  if (id == null) {
    id = meta.lastBranch
    meta.lastBranch++
    meta.seen[key] = id
    file.branchMap[id] = { loc: pickLocation(loc), type, locations: locations.map((location) => pickLocation(location)), line: loc.start.line }
  }
  file.b[id] ||= new Array<number>(locations.length).fill(0)
  const counts = file.b[id]!
  covered.forEach((count, index) => {
    if (counts[index] !== undefined) counts[index] += count
  })
}

/** Whether the library would take the path this module reproduces for `code` at `path`. */
export function isPlainScript(code: string, path: string): boolean {
  return !URL_SYNTAX.test(path) && resolve(path) === path && !SOURCE_MAPPING_URL.test(code)
}

function functionName(node: Node | undefined): string | undefined {
  if (!node) return undefined
  if (node.type === 'Identifier') return node['name'] as string
  if ('id' in node && node['id']) return functionName(node['id'] as Node)
  if ('key' in node && node['key']) return functionName(node['key'] as Node)
  return undefined
}

/** ESTree node types that never contain another node. */
const LEAVES = new Set(['Identifier', 'Literal', 'ThisExpression', 'Super', 'TemplateElement', 'PrivateIdentifier', 'EmptyStatement'])

function isNode(value: unknown): value is Node {
  return value !== null && typeof value === 'object' && 'type' in value && typeof (value as Node).type === 'string'
}

const UNDEFINED_LOCATION = { start: { line: undefined, column: undefined }, end: { line: undefined, column: undefined } } as unknown as Location

/**
 * ast-v8-to-istanbul's output for a plain script (see `isPlainScript`), or undefined where the
 * library must decide. `ast` is the host parser's ESTree Program for `code`; it is modified the
 * way the library modifies it.
 */
export async function convertPlain(path: string, code: string, ast: unknown, scriptCov: ScriptCov): Promise<CoverageMapData | undefined> {
  const hints = await ignoreHints(code)
  if (hints.length === 1 && hints[0]!.type === 'file') return {}
  const locator = new IdentityLocator(code)
  const ranges = normalize(scriptCov)
  const file: FileData = {
    path,
    statementMap: {},
    fnMap: {},
    branchMap: {},
    s: {},
    f: {},
    b: {},
    meta: { lastBranch: 0, lastFunction: 0, lastStatement: 0, seen: {}, fnNames: new Map() },
  }
  const methodValues = new WeakSet<object>()
  const skipped = new WeakSet<object>()
  /** The node whose subtree an ignore hint (or a skipped branch) hides, until the walk leaves it. */
  let ignored: Node | false = false
  const hintOf = (node: { start: number }): Hint['type'] | null => {
    for (const hint of hints) if (hint.loc.end === node.start) return hint.type
    return null
  }

  // CoverageMapper.onFunction / onStatement / onBranch (wrapperLength 0, no ignore callbacks).
  const onFunction = (node: Node, loc: { start: number; end: number }, decl: { start: number; end: number }, count?: Node): void => {
    const location = locator.getLoc(loc)
    if (location === null) return
    const declLocation = locator.getLoc(decl)
    if (declLocation === null) return
    addFunction(file, countAt((count || node).start, ranges), location, declLocation, functionName(node))
  }
  const onStatement = (node: Node, countNode?: Node): void => {
    const location = locator.getLoc(node)
    if (location === null) return
    addStatement(file, location, countAt((countNode || node).start, ranges))
  }
  const onBranch = (type: string, node: Node, branches: (Node | null | undefined)[]): void => {
    const location = locator.getLoc(node)
    if (location === null) return
    const locations: Location[] = []
    const covered: number[] = []
    for (const branch of branches) {
      if (!branch) {
        locations.push(UNDEFINED_LOCATION)
        const count = countAt(node.start, ranges)
        covered.push(count - (covered.at(-1) || 0))
        continue
      }
      const branchLocation = locator.getLoc(branch)
      if (branchLocation !== null) locations.push(branchLocation)
      const inner = +(branch.type === 'BlockStatement')
      covered.push(countAt(branch.start + inner, ranges))
    }
    if (type === 'if' && locations.length > 0) locations[0] = location
    if (locations.length !== 0) addBranch(file, location, locations, type, covered)
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
  return { [path]: file }
}
