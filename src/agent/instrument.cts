/**
 * Counting on load (`counting: 'load'`): instruments one plain-JavaScript file so that it counts
 * where V8's block coverage counts, instead of switching the whole process to precise coverage
 * (which makes every function Node runs pay for counting: bench/RESULTS.md, section 6).
 *
 * One counter per V8-like source range: each function (invocations), then/else of `if` and `?:`,
 * loop bodies, right operands of `&&` `||` `??`, `catch`/`finally` bodies, `case` bodies, class
 * field initializers, and a continuation after every statement V8 gives one (compound statements,
 * jumps, statements that await). The ranges and counts become a V8 ScriptCov (counting.cts) that
 * goes through the same reader and converter as V8's own data, so statement maps are the V8
 * route's by construction and the counts at every offset are V8's where the ranges match.
 *
 * acorn is loaded on the first file instrumented: processes that load no included file never pay,
 * nor processes whose files are all in the on-disk cache (instrument-cache.cts).
 */

import fs = require('node:fs')
import url_ = require('node:url')
import cache = require('./instrument-cache.cjs')

/** An ESTree node as acorn gives it (only what the walk reads). */
interface AstNode {
  type: string
  start: number
  end: number
  [key: string]: unknown
}

/** What the instrumented code is: its text and the `[start, end]` range of every counter. */
interface Instrumented {
  code: string
  /** `[start, end]`, or `[start, end, 1]` for a range V8 reports as a function of its own (class initializers). */
  ranges: CounterRange[]
}

type CounterRange = [number, number] | [number, number, 1]

/** Every instrumented file starts its counting with a call of this global (counting.cts defines it). */
const COUNTERS_GLOBAL = '__serverCoverageCounters'
/** The marker that says a file is instrumented already (never twice). */
const MARKER = `globalThis.${COUNTERS_GLOBAL}(`

const FUNCTION = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression'])
const LOOP = new Set(['ForStatement', 'ForInStatement', 'ForOfStatement', 'WhileStatement', 'DoWhileStatement'])
const JUMP = new Set(['ReturnStatement', 'ThrowStatement', 'BreakStatement', 'ContinueStatement'])
const COMPOUND = new Set(['IfStatement', 'TryStatement', 'SwitchStatement', ...LOOP])

/** Class initializer ranges differ by V8 version (see `countClassInitializers`). */
const V8_MAJOR = Number(process.versions.v8.split('.')[0])

let acorn: typeof import('acorn') | undefined

function parseCode(code: string): AstNode {
  acorn ??= require('acorn') as typeof import('acorn')
  const options = { ecmaVersion: 'latest', allowHashBang: true, allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true } as const
  try {
    return acorn.parse(code, { ...options, sourceType: 'module', allowImportExportEverywhere: true }) as unknown as AstNode
  } catch {
    return acorn.parse(code, { ...options, sourceType: 'script' }) as unknown as AstNode
  }
}

function isNode(value: unknown): value is AstNode {
  return value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string'
}

/** The child nodes of `node`, in source order of its keys. */
function children(node: AstNode): AstNode[] {
  const found: AstNode[] = []
  for (const key in node) {
    const value = node[key]
    if (Array.isArray(value)) for (const item of value) isNode(item) && found.push(item)
    else if (isNode(value)) found.push(value)
  }
  return found
}

/** Whether `node` awaits or yields outside any nested function (V8 starts a continuation after it). */
function suspends(node: AstNode): boolean {
  if (node.type === 'AwaitExpression' || node.type === 'YieldExpression' || (node.type === 'ForOfStatement' && node.await === true)) return true
  if (FUNCTION.has(node.type)) return false
  return children(node).some(suspends)
}

/** Whether `code` was instrumented already (by this process, another hook, or an earlier load). */
function isInstrumented(code: string): boolean {
  return code.includes(MARKER)
}

interface Edit {
  at: number
  text: string
  /** Closing text (a wrapper's end, a continuation) goes before opening text at one offset. */
  closes: boolean
  depth: number
  sequence: number
}

/** Instruments `code` (the file at `url`); throws if it does not parse. */
function instrument(code: string, url: string): Instrumented {
  const ast = parseCode(code)
  const ranges: CounterRange[] = []
  const edits: Edit[] = []
  const counter = (start: number, end: number, ownFunction = false): number => ranges.push(ownFunction ? [start, end, 1] : [start, end]) - 1
  const insert = (at: number, text: string, closes: boolean, depth: number): void => void edits.push({ at, text, closes, depth, sequence: edits.length })
  const tick = (index: number): string => `__scc[${index}]++;`
  const list = (node: AstNode, key: string): AstNode[] => (node[key] as AstNode[] | undefined) ?? []
  const child = (node: AstNode, key: string): AstNode => node[key] as AstNode

  /** Where counting code may start in a body: after its directive prologue ('use strict' stays first). */
  const bodyStart = (statements: AstNode[], fallback: number): number => {
    let at = fallback
    for (const statement of statements) {
      if (statement.type === 'ExpressionStatement' && statement.directive !== undefined) at = statement.end
      else break
    }
    return at
  }
  /** Inserts counting code at the start of a body; after a directive without a semicolon, one ends it first. */
  const insertAtBodyStart = (statements: AstNode[], fallback: number, text: string, depth: number): void => {
    const at = bodyStart(statements, fallback)
    insert(at, at === fallback ? text : `;${text}`, false, depth)
  }
  /** Counts entries into a statement used as a body: a block gets the tick inside, another statement is wrapped in one. */
  const countBody = (body: AstNode, depth: number): void => {
    const index = counter(body.start, body.end)
    if (body.type === 'BlockStatement') insertAtBodyStart(list(body, 'body'), body.start + 1, tick(index), depth)
    else {
      insert(body.start, `{${tick(index)}`, false, depth)
      insert(body.end, '}', true, depth)
    }
  }
  const countExpression = (expression: AstNode, depth: number): void => {
    const index = counter(expression.start, expression.end)
    insert(expression.start, `(__scc[${index}]++, `, false, depth)
    insert(expression.end, ')', true, depth)
  }

  /** Walks the statements of one body; `end` is where the innermost counted range ends (continuations run to it). */
  const walkStatements = (statements: AstNode[], end: number, depth: number): void => {
    for (const statement of statements) {
      walk(statement, end, depth + 1)
      const labelled = statement.type === 'LabeledStatement' && COMPOUND.has(child(statement, 'body').type)
      if (COMPOUND.has(statement.type) || JUMP.has(statement.type) || labelled || suspends(statement)) {
        insert(statement.end, `;${tick(counter(statement.end, end))}`, true, depth)
      }
    }
  }

  const walkFunction = (fn: AstNode, depth: number): void => {
    const index = counter(fn.start, fn.end)
    for (const param of list(fn, 'params')) walk(param, fn.end, depth + 1)
    const body = child(fn, 'body')
    if (body.type === 'BlockStatement') {
      insertAtBodyStart(list(body, 'body'), body.start + 1, tick(index), depth)
      walkStatements(list(body, 'body'), fn.end, depth + 1)
    } else {
      insert(body.start, `(__scc[${index}]++, `, false, depth)
      insert(body.end, ')', true, depth)
      walk(body, fn.end, depth + 1)
    }
  }

  /**
   * V8 runs a class's field initializers in synthetic functions of their own, and counts them so:
   * instance fields in `<instance_members_initializer>`, once per instance; static fields and
   * blocks in `<static_initializer>`, once per class evaluation. Their ranges depend on V8: on
   * Node 20 (V8 11) the whole class and the first to the last static member (instance fields in
   * between are counted there); on Node 22 (V8 12) both the class body; on Node 24 (V8 13) the
   * first to the last field of each kind. The same ranges, as functions of their own, are counted
   * by a private field first in the class (evaluated first for every instance) and a static block
   * before the first static member.
   */
  const countClassInitializers = (node: AstNode, depth: number): void => {
    const body = child(node, 'body')
    const members = list(body, 'body')
    // V8 ends a field's range before its semicolon.
    const memberEnd = (member: AstNode): number => (member.type === 'PropertyDefinition' && code[member.end - 1] === ';' ? member.end - 1 : member.end)
    const fields = members.filter((member) => member.type === 'PropertyDefinition' && !member.static)
    if (fields.length > 0) {
      const [start, end] = V8_MAJOR < 12 ? [node.start, node.end] : V8_MAJOR < 13 ? [body.start, node.end] : [fields[0]!.start, memberEnd(fields.at(-1)!)]
      insert(body.start + 1, `#__scc = void __scc[${counter(start, end, true)}]++;`, false, depth)
    }
    const statics = members.filter((member) => (member.type === 'PropertyDefinition' && member.static) || member.type === 'StaticBlock')
    if (statics.length > 0) {
      const [start, end] = V8_MAJOR === 12 ? [body.start, node.end] : [statics[0]!.start, memberEnd(statics.at(-1)!)]
      insert(statics[0]!.start, `static { __scc[${counter(start, end, true)}]++ }`, false, depth)
    }
  }

  /** A body statement's own statements (a block's, or the one statement): its range ends with it. */
  const walkAsBody = (body: AstNode, depth: number): void => {
    // Deeper than the wrapper countBody may have closed at `depth`: continuations stay inside it.
    walkStatements(body.type === 'BlockStatement' ? list(body, 'body') : [body], body.end, depth + 1)
  }

  function walk(node: AstNode | null | undefined, end: number, depth: number): void {
    if (!node) return
    if (FUNCTION.has(node.type)) return walkFunction(node, depth)
    switch (node.type) {
      case 'BlockStatement':
      case 'StaticBlock':
        return walkStatements(list(node, 'body'), end, depth)
      case 'IfStatement': {
        walk(child(node, 'test'), end, depth + 1)
        for (const key of ['consequent', 'alternate']) {
          const body = node[key] as AstNode | null
          if (!body) continue
          countBody(body, depth + 1)
          walkAsBody(body, depth + 1)
        }
        return
      }
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement':
      case 'WhileStatement':
      case 'DoWhileStatement': {
        for (const key of ['init', 'test', 'update', 'left', 'right']) walk(node[key] as AstNode | null | undefined, end, depth + 1)
        countBody(child(node, 'body'), depth + 1)
        return walkAsBody(child(node, 'body'), depth + 1)
      }
      case 'LabeledStatement':
        return walk(child(node, 'body'), end, depth + 1)
      case 'TryStatement': {
        walk(child(node, 'block'), end, depth + 1)
        const handler = node.handler as AstNode | null
        if (handler) {
          const body = child(handler, 'body')
          countBody(body, depth + 1)
          walk(handler.param as AstNode | null, end, depth + 1)
          walkStatements(list(body, 'body'), body.end, depth + 1)
        }
        const finalizer = node.finalizer as AstNode | null
        if (finalizer) {
          countBody(finalizer, depth + 1)
          walkStatements(list(finalizer, 'body'), finalizer.end, depth + 1)
        }
        return
      }
      case 'SwitchStatement': {
        walk(child(node, 'discriminant'), end, depth + 1)
        for (const clause of list(node, 'cases')) {
          walk(clause.test as AstNode | null, end, depth + 1)
          const consequent = list(clause, 'consequent')
          insert(consequent[0]?.start ?? clause.end, tick(counter(clause.start, clause.end)), false, depth + 1)
          walkStatements(consequent, clause.end, depth + 1)
        }
        return
      }
      case 'ClassDeclaration':
      case 'ClassExpression':
        countClassInitializers(node, depth + 1)
        break
      case 'ConditionalExpression':
        walk(child(node, 'test'), end, depth + 1)
        for (const key of ['consequent', 'alternate']) {
          const branch = child(node, key)
          countExpression(branch, depth + 1)
          walk(branch, branch.end, depth + 2)
        }
        return
      case 'LogicalExpression': {
        walk(child(node, 'left'), end, depth + 1)
        const right = child(node, 'right')
        countExpression(right, depth + 1)
        return walk(right, right.end, depth + 2)
      }
    }
    for (const item of children(node)) walk(item, end, depth + 1)
  }

  const top = counter(0, code.length)
  const program = list(ast, 'body')
  walkStatements(program, code.length, 0)
  insertAtBodyStart(program, program[0]?.start ?? code.length, `var __scc = ${MARKER}${JSON.stringify(url)}, ${ranges.length}, ${JSON.stringify(ranges)});${tick(top)}`, -1)
  // At one offset: closing text first, deepest first; then opening text, shallowest first.
  edits.sort((a, b) => a.at - b.at || (a.closes === b.closes ? (a.closes ? b.depth - a.depth : a.depth - b.depth) : a.closes ? -1 : 1) || a.sequence - b.sequence)
  let out = ''
  let at = 0
  for (const edit of edits) {
    out += code.slice(at, edit.at) + edit.text
    at = edit.at
  }
  return { code: out + code.slice(at), ranges }
}

/** Node's own test for a source map (lib/internal/source_map/source_map_cache.js). */
const SOURCE_MAP_COMMENT = /\/[*/]#\s+sourceMappingURL=\S+/
const warned = new Set<string>()

/** Says once per file that it is not counted because the code that runs is not the file on disk. */
function warnTransformed(file: string): void {
  if (warned.has(file)) return
  warned.add(file)
  // The collector says it in its log (runtimes/node/index.ts reads `uncounted-*.txt`); the server's
  // stderr says it too, for a server whose output is shown.
  const dir = process.env.SERVER_COVERAGE_V8_DIR
  try {
    if (dir) fs.appendFileSync(`${dir}/uncounted-${process.pid}.txt`, `${file}\n`)
  } catch {
    // the collector is gone: stderr still says it
  }
  process.stderr.write(
    `server-coverage: counting 'load' cannot count ${file}: the code Node runs is not the file on disk (a loader or require hook transformed it), so it is left out of the report. Use counting 'v8' for this server.\n`,
  )
}

/**
 * The instrumented code of `code`, just loaded from `file` (its URL: `fileUrl`), or undefined to
 * run it as it is: files out of scope, instrumented already, transformed before they reached us
 * (a loader or require hook: the offsets would not be the file's, so they are named instead of
 * counted wrongly), or that do not parse (V8 will say why when it runs them).
 */
function instrumentLoaded(code: string, file: string, fileUrl: string | undefined, included: (file: string, hasSourceMap: boolean) => boolean): Instrumented | undefined {
  // Every module of the process comes through here: the path alone (node_modules, our package)
  // rules most of them out before the code is looked at.
  if (!included(file, true)) return undefined
  if (!included(file, SOURCE_MAP_COMMENT.test(code)) || isInstrumented(code)) return undefined
  let onDisk: string
  try {
    onDisk = fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  if (onDisk !== code && onDisk.replace(/^\uFEFF/, '') !== code) {
    warnTransformed(file)
    return undefined
  }
  const url = fileUrl ?? url_.pathToFileURL(file).href
  // The same file instrumented by an earlier process or run (instrument-cache.cts): no acorn.
  const cached = cache.readCached(url, code)
  if (cached) return cached
  let instrumented: Instrumented
  try {
    instrumented = instrument(code, url)
  } catch {
    return undefined
  }
  cache.writeCached(url, code, instrumented)
  return instrumented
}

/** What a module load hook gets from `nextLoad` (`module.register` and `module.registerHooks` alike). */
interface LoadResult {
  format?: string | null
  source?: string | ArrayBuffer | ArrayBufferView | null
  shortCircuit?: boolean
}

function sourceText(source: string | ArrayBuffer | ArrayBufferView): string {
  if (typeof source === 'string') return source
  return ArrayBuffer.isView(source) ? Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8') : Buffer.from(source).toString('utf8')
}

/**
 * A load hook's result with an included `file:` ES module instrumented. CommonJS is left to
 * `Module.prototype._compile` (counting.cts), which every CommonJS file goes through, imported or
 * required.
 */
function instrumentLoadResult(url: string, result: LoadResult, included: (file: string, hasSourceMap: boolean) => boolean): LoadResult {
  if (!url.startsWith('file:') || result.format !== 'module' || result.source == null) return result
  const file = url_.fileURLToPath(url)
  if (!included(file, true)) return result
  const instrumented = instrumentLoaded(sourceText(result.source), file, url, included)
  return instrumented ? { ...result, source: instrumented.code } : result
}

export = { instrument, instrumentLoaded, instrumentLoadResult, COUNTERS_GLOBAL }
