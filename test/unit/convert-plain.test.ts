import type { ScriptCov } from '../../src/coverage/v8-types.js'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import astV8ToIstanbul from 'ast-v8-to-istanbul'
import { parseAstAsync } from 'vitest/node'
import { describe, expect, test } from 'vitest'
import { applyPlan, convertPlain, isPlainScript, planPlain } from '../../src/coverage/convert-plain.js'
import { parseWithAcorn } from '../../src/coverage/parse.js'

// convert-plain.ts must give ast-v8-to-istanbul's output key for key (ids, locations, `Infinity`
// end columns, names, counts, meta), for acorn's AST and for Vitest's own parser's: checked on
// real packages (express and its dependency tree, acorn, picomatch) and on snippets for every
// node kind and ignore hint, each with a seeded mix of V8 ranges.

const require = createRequire(import.meta.url)
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`))

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.[cm]?js$/.test(name) && !name.split('/').includes('node_modules'))
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile() && statSync(path).size < 300_000)
}

/** A deterministic scatter of V8 ranges over `code`: the whole script, then nested blocks. */
function coverageFor(path: string, code: string, seed: number): ScriptCov {
  let state = seed
  const random = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648
  const ranges = [{ startOffset: 0, endOffset: code.length, count: 1 + Math.floor(random() * 5) }]
  for (let index = 0; index < 30; index++) {
    const start = Math.floor(random() * code.length)
    ranges.push({ startOffset: start, endOffset: Math.min(code.length, start + Math.floor(random() * 600)), count: Math.floor(random() * 4) })
  }
  return { scriptId: '1', url: pathToFileURL(path).href, functions: [{ functionName: '', ranges, isBlockCoverage: true }] }
}

async function expectSameAsLibrary(path: string, code: string, parse: (code: string) => unknown, seed: number): Promise<void> {
  const scriptCov = coverageFor(path, code, seed)
  const ours = await convertPlain(path, code, await parse(code), structuredClone(scriptCov))
  const library = await astV8ToIstanbul({ code, ast: (await parse(code)) as never, coverage: structuredClone(scriptCov), wrapperLength: 0 })
  expect(ours, path).toEqual(library)
}

const SNIPPETS: Record<string, string> = {
  'statements.js': [
    "'use strict'",
    'const a = 1, b = a + 1; let c',
    'label: for (let i = 0; i < 3; i++) { if (i) continue label; else break }',
    'for (const k in {}) {} for (const v of []) {} while (false) {} do {} while (false)',
    'try { throw new Error("x") } catch (error) { debugger } finally {}',
    'switch (a) { case 1: b; case 2: { c } default: }',
    'if (a) b; else if (c) d; else { e }',
    'if (a) b',
    '',
  ].join('\n'),
  'functions.js': [
    'function named(x = 1, { y } = {}, ...rest) { return x }',
    'const expression = function inner() {}, anonymous = function () {}',
    'const arrow = (x) => x * 2, block = () => { return 1 }, paren = () => ({ a: 1 })',
    'class Point extends Object { static count = 0; #secret = 1; x = 1; constructor() { super() } get y() { return 1 } set y(v) {} static make() {} #hidden() {} }',
    'const object = { method() {}, prop: function () {}, arrow: () => 1, [computed]: function named() {}, get g() { return 1 } }',
    'async function* generator() { yield await 1 }',
    'named(); named(); expression(); arrow(1)',
    'function named() {}',
    '',
  ].join('\n'),
  'branches.js': [
    'const v = a ? b : c',
    'const w = (a) ? (b) : ((c))',
    'const x = (a && (b || c) && d) ?? e',
    'const y = a || b || c',
    'x ||= 1; y &&= 2; z ??= 3',
    'const t = `${a ? 1 : 2}` + tag`x${y}`',
    'const chained = a?.b?.(c)',
    '',
  ].join('\n'),
  'hints.js': [
    '/* istanbul ignore next */',
    'function ignored() { return 1 }',
    'function kept(a) {',
    '  /* istanbul ignore if */',
    '  if (a) { return 1 }',
    '  /* c8 ignore else */',
    '  if (a) { return 2 } else { return 3 }',
    '  /* v8 ignore else */',
    '  if (a) return 4',
    '  const v = a ? /* istanbul ignore next */ b : c',
    '  const w = a || /* istanbul ignore next */ (b && c) || d',
    '  switch (a) {',
    '    /* istanbul ignore next */',
    '    case 1: return 5',
    '    default: return 6',
    '  }',
    '}',
    '/* c8 ignore start */',
    'function hidden() {}',
    '/* c8 ignore stop */',
    '// node:coverage ignore next',
    'kept(1)',
    '"/* istanbul ignore next */ in a string"',
    '',
  ].join('\n'),
  'sloppy.cjs': 'with (Math) max(1, 2)\nvar let = 1\nreturn let\n',
  'ignored-file.js': '/* istanbul ignore file */\nfunction f() {}\n',
  'unterminated-start.js': 'a()\n/* v8 ignore start */\nb()\nc()\n',
  'crlf.js': 'function f(a) {\r\n  if (a) {\r\n    return 1\r\n  }\r\n  return 2\r\n}\r\nf(1)\r\n',
  'unicode.js': 'const café = "naïve 😀"; function ƒ(été) { return été ? "🎉" : café }\nƒ(1)\n',
  'trailing-space.js': 'foo();   \nbar()\t\nconst x = 1 ;\n',
}

describe('convertPlain equals ast-v8-to-istanbul', () => {
  const files = [...jsFiles(packageDir('express')), ...jsFiles(packageDir('body-parser')), ...jsFiles(packageDir('qs')), ...jsFiles(packageDir('picomatch')), join(packageDir('acorn'), 'dist', 'acorn.js')]

  test('on real packages, with acorn', async () => {
    let plain = 0
    for (const [index, path] of files.entries()) {
      const code = readFileSync(path, 'utf8')
      if (!isPlainScript(code, path)) continue
      plain++
      await expectSameAsLibrary(path, code, parseWithAcorn, index + 1)
    }
    expect(plain).toBeGreaterThan(30)
  })

  test('on real packages, with Vitest\'s parser', async () => {
    for (const [index, path] of files.slice(0, 40).entries()) {
      const code = readFileSync(path, 'utf8')
      if (isPlainScript(code, path)) await expectSameAsLibrary(path, code, parseAstAsync, index + 7)
    }
  })

  for (const [name, code] of Object.entries(SNIPPETS)) {
    test(`snippet ${name}`, async () => {
      const path = join('/srv/app dir', name)
      expect(isPlainScript(code, path)).toBe(true)
      for (const seed of [1, 2, 3]) {
        await expectSameAsLibrary(path, code, parseWithAcorn, seed)
        // Vitest's parser reads ES modules only.
        if (!name.endsWith('.cjs')) await expectSameAsLibrary(path, code, parseAstAsync, seed)
      }
    })
  }

  // A plan is made once per content and applied to every later coverage of it (watch mode).
  test('a kept plan applied to other coverage equals the library', async () => {
    const path = join(packageDir('express'), 'lib', 'response.js')
    const code = readFileSync(path, 'utf8')
    const plan = await planPlain(path, code, parseWithAcorn(code))
    expect(plan?.maps).toBeDefined()
    for (const seed of [11, 12, 13]) {
      const scriptCov = coverageFor(path, code, seed)
      const library = await astV8ToIstanbul({ code, ast: parseWithAcorn(code) as never, coverage: structuredClone(scriptCov), wrapperLength: 0 })
      expect(applyPlan(plan!, scriptCov)).toEqual(library)
    }
    const ignored = '/* istanbul ignore file */\nf()\n'
    expect(applyPlan((await planPlain('/srv/f.js', ignored, parseWithAcorn(ignored)))!, coverageFor('/srv/f.js', ignored, 1))).toEqual({})
  })

  test('leaves to the library what it does not reproduce', () => {
    expect(isPlainScript('f()\n//# sourceMappingURL=f.js.map\n', '/srv/f.js')).toBe(false)
    expect(isPlainScript('f()\n', '/srv/a%20b/f.js')).toBe(false)
    expect(isPlainScript('f()\n', '/srv/a/../f.js')).toBe(false)
    expect(isPlainScript('f()\n', '/srv/f.js')).toBe(true)
  })
})
