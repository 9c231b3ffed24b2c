import type { ScriptCov } from '../../src/coverage/v8-types.js'
import type { FileCoverageData } from 'istanbul-lib-coverage'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { expect, test } from 'vitest'
import { applyPlan, isPlainScript, planPlain } from '../../src/coverage/convert-plain.js'
import { defaultParser, loadOxcParser, parseWithAcorn } from '../../src/coverage/parse.js'

// Conversions parse with oxc-parser (native, 4–5× faster) where it loads and with acorn otherwise
// (src/coverage/parse.ts). The two must be interchangeable: the same ESTree for JavaScript, so the
// same statement, branch and function maps and the same counts, file by file. Checked on real
// packages (the express tree, fastify, koa, vitest's own bundle) and on snippets chosen for where
// parsers differ: UTF-16 offsets after astral characters, hashbangs, top-level `return`, HTML-like
// comments, sloppy-mode syntax a module forbids, class fields and private methods.

const require = createRequire(import.meta.url)

const packageFiles = (name: string, under = ''): string[] => {
  const dir = join(import.meta.dirname, '..', '..', 'node_modules', name, under)
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.[cm]?js$/.test(file) && !file.split('/').includes('node_modules'))
    .map((file) => join(dir, file))
}

const SNIPPETS: Record<string, string> = {
  astral: 'const s = "héllo 😀 wörld"\nfunction f(a) { return a ? "✓" : `ü${a}😀${"𝒳"}` }\n// ✓ 😀\nexport const g = () => f(1) + s /* 𝒳 */ + (s ? 1 : 2)\n',
  hashbang: '#!/usr/bin/env node\n"use strict"\nif (process.argv.length > 9) { console.log(1) } else console.log(2)\n',
  topLevelReturn: 'if (typeof window === "undefined") return\nmodule.exports = function (a) { return a && a.b || 3 }\n',
  htmlLikeComment: 'var x = 1 <!-- y\nfunction y() {}\n',
  sloppy: 'with (Math) { var r = floor(1.5) }\nvar n = 010\nfunction dup(a, a) { return a }\nlabel: for (;;) { break label }\n',
  classes: 'export class A { #p = 1; static s = 2; get g() { return this.#p } static { A.t = 3 } #m() { return 1 } async *gen() { yield* [1] } }\n',
  modern: 'export default async function (o) { const v = o?.a?.[0] ?? (o ||= {}); for await (const x of []) {} try { v } catch { } finally { } return v ** 2 }\n',
  regexAndNumbers: 'const r = /a(?<n>b)\\/c/giu, b = 10n, n = 1_000, h = 0x1f\nswitch (r.flags) { case "g": break; default: n }\n',
}

/** One function range over the whole script and a zero-count block in its middle third. */
const coverage = (path: string, code: string): ScriptCov => ({
  scriptId: '1',
  url: pathToFileURL(path).href,
  functions: [{ functionName: '', isBlockCoverage: true, ranges: [{ startOffset: 0, endOffset: code.length, count: 2 }, { startOffset: Math.floor(code.length / 3), endOffset: Math.floor((2 * code.length) / 3), count: 0 }] }],
})

test('oxc-parser loads here and is the default parser, named for the plan store by its version', async () => {
  const oxc = await loadOxcParser()
  expect(oxc, 'oxc-parser is an optional dependency of this repository: it must load in the suite').toBeDefined()
  expect(await defaultParser()).toBe(oxc)
  expect(oxc!.cacheKey).toBe(`oxc-parser@${(require('oxc-parser/package') as { version: string }).version}`)
})

test('oxc-parser and acorn give the same ESTree on snippets where parsers differ', async () => {
  const oxc = (await loadOxcParser())!
  // Fields only one of them writes and no converter reads.
  const normalise = (tree: unknown): unknown =>
    JSON.parse(
      JSON.stringify(tree, (key, value: unknown) => {
        if (key === 'sourceType' || key === 'hashbang' || key === 'phase' || (key === 'decorators' && Array.isArray(value) && value.length === 0)) return undefined
        if (key === 'value' && value instanceof RegExp) return String(value)
        if (typeof value === 'bigint') return `${value}n`
        return value === null ? undefined : value
      }),
    )
  for (const [name, code] of Object.entries(SNIPPETS)) expect(normalise(await oxc(code)), name).toEqual(normalise(parseWithAcorn(code)))
})

/** A file coverage as a list of (kind, location, count), sorted: equal whatever order the maps were numbered in. */
function unnumbered(data: Record<string, unknown>): string[] {
  const rows: string[] = []
  for (const file of Object.values(data) as FileCoverageData[]) {
    for (const [id, loc] of Object.entries(file.statementMap)) rows.push(`s ${JSON.stringify(loc)} ${file.s[id]}`)
    for (const [id, fn] of Object.entries(file.fnMap)) rows.push(`f ${JSON.stringify(fn)} ${file.f[id]}`)
    for (const [id, branch] of Object.entries(file.branchMap)) rows.push(`b ${JSON.stringify(branch)} ${JSON.stringify(file.b[id])}`)
  }
  return rows.sort()
}

test('a conversion with oxc-parser equals the one with Vitest\'s own parser, and acorn\'s up to numbering (express tree, fastify, koa, vitest, snippets)', async () => {
  const oxc = (await loadOxcParser())!
  const { parseAstAsync } = await import('vitest/node')
  const files = [
    ...['express', 'body-parser', 'qs', 'picomatch', 'koa', 'send', 'router', 'path-to-regexp'].flatMap((name) => packageFiles(name)),
    ...packageFiles('fastify', 'lib'),
    ...packageFiles('vitest', 'dist/chunks').slice(0, 40),
    ...Object.entries(SNIPPETS).map(([name, code]) => ({ path: `/srv/${name}.js`, code })),
  ]
  let checked = 0
  let renumbered = 0
  for (const file of files) {
    const { path, code } = typeof file === 'string' ? { path: file, code: readFileSync(file, 'utf8') } : file
    if (!isPlainScript(code, path)) continue
    const convert = async (tree: unknown) => {
      const plan = await planPlain(path, code, tree)
      return plan && applyPlan(plan, coverage(path, code))
    }
    const withAcorn = await convert(parseWithAcorn(code))
    if (!withAcorn) continue
    const withOxc = (await convert(await oxc(code)))!
    // Vitest's v8 provider parses with Vite's parseAstAsync: the reference for numbering too.
    // (It rejects a top-level `return`, which CommonJS allows and both parsers here accept.)
    const vitestTree = await parseAstAsync(code).catch(() => undefined)
    // (It also reads `<!--` as a comment, as a script would; both parsers here try a module first, as before.)
    if (vitestTree && !path.endsWith('htmlLikeComment.js')) expect(withOxc, path).toStrictEqual(await convert(vitestTree))
    else expect(path).toMatch(/\/srv\/(topLevelReturn|htmlLikeComment)\.js$/)
    // acorn writes a case's consequent before its test, so a branch in a `case` test is numbered
    // after the branches of its body; every location and count is the same.
    expect(unnumbered(withOxc), path).toEqual(unnumbered(withAcorn))
    if (!isDeepStrictEqual(withOxc, withAcorn)) renumbered++
    checked++
  }
  expect(checked).toBeGreaterThan(100)
  expect(renumbered).toBeLessThan(checked / 20)
})

test('code oxc-parser rejects in both modes is handed to acorn, which parses or throws as before', async () => {
  const oxc = (await loadOxcParser())!
  // A top-level `await` next to a top-level `return`: no module and no CommonJS script; acorn's options allow both.
  const code = 'await Promise.resolve(1)\nif (process.env.X) return\nexports.a = 1\n'
  const { parseSync } = await import('oxc-parser')
  for (const sourceType of ['module', 'commonjs'] as const) expect(parseSync('script.js', code, { sourceType }).errors.length, sourceType).toBeGreaterThan(0)
  const tree = (await oxc(code)) as object
  // acorn's nodes are instances of its Node class; oxc's are plain objects.
  expect(tree.constructor.name).toBe('Node')
  expect(tree).toEqual(parseWithAcorn(code))
  expect(() => oxc('function (')).toThrow(SyntaxError)
})

test('where oxc-parser is not installed, conversions parse with acorn (the build in a folder whose node_modules lacks it)', async () => {
  const { cpSync, mkdtempSync, mkdirSync, readdirSync: list, rmSync, symlinkSync } = await import('node:fs')
  const { spawnSync } = await import('node:child_process')
  const root = join(import.meta.dirname, '..', '..')
  const dir = mkdtempSync(join((await import('node:os')).tmpdir(), 'sc-no-oxc-'))
  try {
    cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true })
    cpSync(join(root, 'package.json'), join(dir, 'package.json'))
    mkdirSync(join(dir, 'node_modules'))
    for (const name of list(join(root, 'node_modules'))) {
      if (name === 'oxc-parser' || name === '@oxc-parser' || name === '.bin' || name === '.cache') continue
      symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name))
    }
    const script = `
      const { defaultParser, loadOxcParser, parseWithAcorn } = await import(${JSON.stringify(pathToFileURL(join(dir, 'dist', 'coverage', 'parse.js')).href)})
      const { convertScripts } = await import(${JSON.stringify(pathToFileURL(join(dir, 'dist', 'coverage', 'convert.js')).href)})
      const code = 'function f(a) { return a ? 1 : 2 }\\nf(1)\\n'
      const fs = await import('node:fs')
      const path = ${JSON.stringify(join(dir, 'app.js'))}
      fs.writeFileSync(path, code)
      const parse = await defaultParser()
      const conversion = await convertScripts([{ scriptId: '1', url: 'file://' + path, functions: [{ functionName: '', isBlockCoverage: true, ranges: [{ startOffset: 0, endOffset: code.length, count: 1 }] }, { functionName: 'f', isBlockCoverage: true, ranges: [{ startOffset: 0, endOffset: 34, count: 1 }, { startOffset: 31, endOffset: 32, count: 0 }] }] }], {}, parse)
      console.log(JSON.stringify({ oxc: (await loadOxcParser()) !== undefined, acorn: parse === parseWithAcorn, key: parse.cacheKey, s: conversion.data[path].s, b: conversion.data[path].b }))`
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '1', SERVER_COVERAGE_CACHE_DIR: '' } })
    expect(run.status, run.stderr).toBe(0)
    const result = JSON.parse(run.stdout) as { oxc: boolean; acorn: boolean; key: string; s: Record<string, number>; b: Record<string, number[]> }
    expect(result).toMatchObject({ oxc: false, acorn: true })
    expect(result.key).toMatch(/^acorn@/)
    expect(Object.values(result.s)).toEqual([1, 1])
    expect(Object.values(result.b)).toEqual([[1, 0]])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
