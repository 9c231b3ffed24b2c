import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

// Where ast-v8-to-istanbul 1.0.8 puts a node of a script without a source map, without its
// source-map round trip. The library gives such a script an identity map with one segment per
// token (`\w+`, or any single other character) and asks @jridgewell/trace-mapping
// (`originalPositionFor`, then `allGeneratedPositionsFor` for the end), which through an identity
// map reduces to: a start is the start of the token at or before it; an end is where the token
// holding the node's last character ends, or `Infinity` when that token ends its line. Nodes
// starting on lines between `ignore start`/`ignore stop` comments have no location, and the
// ignore hints (`next`, `if`, `else`, `file`) are found with the library's own js-tokens.
// Upstream: https://github.com/AriPerkkio/ast-v8-to-istanbul/blob/main/src (location.ts, ignore-hints.ts).

export interface Position {
  line: number
  column: number
}

export interface Location {
  start: Position
  end: Position
}

/** The library's patterns, verbatim. */
const HINT_AT_START = /^\s*(?:istanbul|[cv]8|node:coverage)\s+ignore\s+(if|else|next|file)(?=\W|$)/
const ANY_HINT = /(?:istanbul|[cv]8|node:coverage)\s+ignore\s+(if|else|next|file)(?=\W|$)/
const IGNORE_LINES = /\s*(?:istanbul|[cv]8|node:coverage)\s+ignore\s+(start|stop)(?=\W|$)/
const NEWLINE = /\r?\n/g

/** Thrown where the library would behave differently (or throw): the caller falls back to it. */
export class NotPlain extends Error {}

export interface Hint {
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
export async function ignoreHints(code: string): Promise<Hint[]> {
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
export class IdentityLocator {
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
