import type { ParseFn } from './convert-script.js'
import { createRequire } from 'node:module'
import { parse } from 'acorn'

const require = createRequire(import.meta.url)

/** acorn and its version: what plans made from its trees (plan-store.ts) and code instrumented with it (the agent's cache) are stored under. */
export const ACORN = `acorn@${(require('acorn/package.json') as { version: string }).version}`

/**
 * The JavaScript parser of last resort for conversion (acorn, ESTree). Tries a module first, then a
 * sloppy-mode script, since CommonJS files may use syntax a module forbids.
 */
export const parseWithAcorn: ParseFn = Object.assign(
  (code: string) => {
    const options = { ecmaVersion: 'latest', allowHashBang: true, allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true } as const
    try {
      return parse(code, { ...options, sourceType: 'module', allowImportExportEverywhere: true })
    } catch {
      return parse(code, { ...options, sourceType: 'script' })
    }
  },
  { cacheKey: ACORN },
)

// oxc-parser (native, an optional dependency pinned to one version) parses 4–5× faster than acorn,
// JSON hand-over included: acorn was ~40% of converting a wide scope (bench/). Its ESTree is acorn's
// for JavaScript, node for node and offset for offset (UTF-16), except that acorn writes a `case`'s
// consequent before its test (a branch in a case test is numbered later; same locations and counts).
// It is also the parser Vitest's own report uses (Vite 8's parseAstAsync is rolldown's, built on oxc),
// so our maps are numbered as Vitest numbers them. test/unit/parsers.test.ts converts real packages
// with all three and compares every map and count. Where it reports an error (it is
// stricter than acorn's options above in places, e.g. top-level `return` in a module), or where it
// does not load (no binary for the platform, a Node it does not support), acorn parses as before.
type OxcParseSync = (filename: string, code: string, options: object) => { program: unknown; errors: unknown[] }
const OXC_OPTIONS = { lang: 'js', astType: 'js', preserveParens: false, range: false } as const

let oxcParser: Promise<ParseFn | undefined> | undefined

/** oxc-parser wrapped as a ParseFn, or undefined where it cannot be loaded. Loaded once (≈ 12 ms). */
export function loadOxcParser(): Promise<ParseFn | undefined> {
  oxcParser ??= import('oxc-parser').then(
    (oxc: { parseSync: OxcParseSync }) => {
      const version = (require('oxc-parser/package') as { version: string }).version
      return Object.assign(
        (code: string) => {
          // A module first (like acorn above), then CommonJS (a script that may `return` at the top).
          try {
            for (const sourceType of ['module', 'commonjs']) {
              const result = oxc.parseSync('script.js', code, { ...OXC_OPTIONS, sourceType })
              if (result.errors.length === 0) return result.program
            }
          } catch {
            // A binding that loaded but fails on this input: acorn below.
          }
          return parseWithAcorn(code)
        },
        { cacheKey: `oxc-parser@${version}` },
      ) as ParseFn
    },
    () => undefined,
  )
  return oxcParser
}

/** The parser conversions use unless a runner gives its own: oxc-parser where it loads, else acorn. */
export async function defaultParser(): Promise<ParseFn> {
  return (await loadOxcParser()) ?? parseWithAcorn
}
