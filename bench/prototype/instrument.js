// PROTOTYPE (not shipped): count the included server files by instrumenting their source on load,
// the way V8's block coverage counts them, instead of turning on V8's precise coverage for every
// function of the process (Node's internals, express, the app). See bench/prototype/README.md.
//
// `instrument(code, url)` returns the instrumented code and the V8-like ranges it counts: one per
// function (invocations), then/else of `if` and `?:`, loop bodies, right operands of `&&`/`||`/`??`,
// `catch`/`finally` bodies, `case` bodies, class field initializers, and a continuation after every
// statement V8 gives one (compound statements, jumps, statements that await): counted where V8
// counts, so the counts at any offset are V8's. The ranges and counts become a V8 ScriptCov (collect.js) that goes through
// the same converter as real V8 data: the statement maps are identical by construction.
import { parse } from 'acorn'

const OPTIONS = { ecmaVersion: 'latest', allowHashBang: true, allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true }

function parseCode(code) {
  try {
    return parse(code, { ...OPTIONS, sourceType: 'module', allowImportExportEverywhere: true })
  } catch {
    return parse(code, { ...OPTIONS, sourceType: 'script' })
  }
}

const FUNCTION = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression'])
const LOOP = new Set(['ForStatement', 'ForInStatement', 'ForOfStatement', 'WhileStatement', 'DoWhileStatement'])
const JUMP = new Set(['ReturnStatement', 'ThrowStatement', 'BreakStatement', 'ContinueStatement'])
const COMPOUND = new Set(['IfStatement', 'TryStatement', 'SwitchStatement', ...LOOP])

function isNode(value) {
  return value !== null && typeof value === 'object' && typeof value.type === 'string'
}

/** Whether `node` awaits or yields outside any nested function. */
function suspends(node) {
  let found = false
  const visit = (n) => {
    if (found || !isNode(n)) return
    if (n.type === 'AwaitExpression' || n.type === 'YieldExpression' || (n.type === 'ForOfStatement' && n.await)) return void (found = true)
    if (FUNCTION.has(n.type)) return
    for (const key in n) {
      const value = n[key]
      if (Array.isArray(value)) value.forEach(visit)
      else if (isNode(value)) visit(value)
    }
  }
  visit(node)
  return found
}

export function instrument(code, url) {
  const ast = parseCode(code)
  const ranges = [] // [start, end] per counter
  const edits = [] // { at, text, closes, depth }
  let sequence = 0
  const counter = (start, end) => ranges.push([start, end]) - 1
  /** An insertion; at one offset, closing text (a wrapper's end, a continuation) goes before opening text, the deepest closing first and the shallowest opening first. */
  const insert = (at, text, closes, depth) => edits.push({ at, text, closes, depth, sequence: sequence++ })
  const tick = (index) => `__scc[${index}]++;`

  /** Where counting code may start in a body: after its directive prologue. */
  const bodyStart = (statements, fallback) => {
    let at = fallback
    for (const statement of statements) {
      if (statement.type === 'ExpressionStatement' && statement.directive !== undefined) at = statement.end
      else break
    }
    return at
  }
  /** Counts entries into a statement used as a body: a block gets the tick inside, another statement is wrapped in one. */
  const countBody = (body, depth, start = body.start, end = body.end) => {
    const index = counter(start, end)
    if (body.type === 'BlockStatement') insert(bodyStart(body.body, body.start + 1), tick(index), false, depth)
    else {
      insert(body.start, `{${tick(index)}`, false, depth)
      insert(body.end, '}', true, depth)
    }
    return index
  }
  const countExpression = (expression, depth) => {
    const index = counter(expression.start, expression.end)
    insert(expression.start, `(__scc[${index}]++, `, false, depth)
    insert(expression.end, ')', true, depth)
  }

  /** Walks statements of one body; `end` is where the innermost counted range ends (continuations run to it). */
  const walkStatements = (statements, end, depth) => {
    for (const statement of statements) {
      walk(statement, end, depth + 1)
      if (COMPOUND.has(statement.type) || JUMP.has(statement.type) || (statement.type === 'LabeledStatement' && COMPOUND.has(statement.body.type)) || suspends(statement)) {
        insert(statement.end, `;${tick(counter(statement.end, end))}`, true, depth)
      }
    }
  }

  const walkFunction = (fn, depth) => {
    const index = counter(fn.start, fn.end)
    for (const param of fn.params) walk(param, fn.end, depth + 1)
    if (fn.body.type === 'BlockStatement') {
      insert(bodyStart(fn.body.body, fn.body.start + 1), tick(index), false, depth)
      walkStatements(fn.body.body, fn.end, depth + 1)
    } else {
      insert(fn.body.start, `(__scc[${index}]++, `, false, depth)
      insert(fn.body.end, ')', true, depth)
      walk(fn.body, fn.end, depth + 1)
    }
  }

  function walk(node, end, depth) {
    if (!isNode(node)) return
    if (FUNCTION.has(node.type)) return walkFunction(node, depth)
    switch (node.type) {
      case 'BlockStatement':
      case 'StaticBlock':
        return walkStatements(node.body, end, depth)
      case 'IfStatement': {
        walk(node.test, end, depth + 1)
        countBody(node.consequent, depth + 1)
        walkAsBody(node.consequent, depth + 1)
        if (node.alternate) {
          countBody(node.alternate, depth + 1)
          walkAsBody(node.alternate, depth + 1)
        }
        return
      }
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement':
      case 'WhileStatement':
      case 'DoWhileStatement': {
        for (const key of ['init', 'test', 'update', 'left', 'right']) walk(node[key], end, depth + 1)
        countBody(node.body, depth + 1)
        return walkAsBody(node.body, depth + 1)
      }
      case 'LabeledStatement':
        return walk(node.body, end, depth + 1)
      case 'TryStatement': {
        walk(node.block, end, depth + 1)
        if (node.handler) {
          countBody(node.handler.body, depth + 1)
          if (node.handler.param) walk(node.handler.param, end, depth + 1)
          walkStatements(node.handler.body.body, node.handler.body.end, depth + 1)
        }
        if (node.finalizer) {
          countBody(node.finalizer, depth + 1)
          walkStatements(node.finalizer.body, node.finalizer.end, depth + 1)
        }
        return
      }
      case 'SwitchStatement': {
        walk(node.discriminant, end, depth + 1)
        for (const clause of node.cases) {
          if (clause.test) walk(clause.test, end, depth + 1)
          const index = counter(clause.start, clause.end)
          insert(clause.consequent[0]?.start ?? clause.end, tick(index), false, depth + 1)
          walkStatements(clause.consequent, clause.end, depth + 1)
        }
        return
      }
      case 'PropertyDefinition':
        // V8 runs field initializers in a synthetic function per class: counted per evaluation.
        if (node.computed) walk(node.key, end, depth + 1)
        if (!node.value) return
        countExpression(node.value, depth + 1)
        return walk(node.value, node.value.end, depth + 2)
      case 'ConditionalExpression':
        walk(node.test, end, depth + 1)
        countExpression(node.consequent, depth + 1)
        walk(node.consequent, node.consequent.end, depth + 2)
        countExpression(node.alternate, depth + 1)
        return walk(node.alternate, node.alternate.end, depth + 2)
      case 'LogicalExpression':
        walk(node.left, end, depth + 1)
        countExpression(node.right, depth + 1)
        return walk(node.right, node.right.end, depth + 2)
    }
    for (const key in node) {
      const value = node[key]
      if (Array.isArray(value)) for (const item of value) walk(item, end, depth + 1)
      else if (isNode(value)) walk(value, end, depth + 1)
    }
  }
  /** A body statement's own statements (a block's, or the one statement): its range ends with it. */
  function walkAsBody(body, depth) {
    // Deeper than the wrapper countBody may have closed at `depth`: continuations stay inside it.
    if (body.type === 'BlockStatement') walkStatements(body.body, body.end, depth + 1)
    else walkStatements([body], body.end, depth + 1)
  }

  const top = counter(0, code.length)
  const program = ast.body
  const head = bodyStart(program, program[0]?.start ?? code.length)
  walkStatements(program, code.length, 0)
  insert(head, `var __scc = globalThis.__scCounters(${JSON.stringify(url)}, ${ranges.length}, ${JSON.stringify(ranges)});${tick(top)}`, false, -1)
  // At one offset: closing text first, deepest first; then opening text, shallowest first.
  edits.sort((a, b) => a.at - b.at || (a.closes === b.closes ? (a.closes ? b.depth - a.depth : a.depth - b.depth) : a.closes ? -1 : 1) || a.sequence - b.sequence)
  let out = ''
  let at = 0
  for (const edit of edits) {
    out += code.slice(at, edit.at) + edit.text
    at = edit.at
  }
  out += code.slice(at)
  return { code: out, ranges }
}
