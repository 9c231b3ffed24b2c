import type { PlainPlan } from '../../src/coverage/convert-plain.js'
import type { ScriptCov } from '../../src/coverage/v8-types.js'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, expect, test } from 'vitest'

// Plans kept on disk (src/coverage/plan-store.ts) must give exactly the plan the converter makes:
// stored, read back in this process, and applied to the same coverage, the file coverage is the
// fresh plan's, strictly (undefined keys of unplaced branch locations included). The BUILT modules
// are used: the converter's id (plan-id.txt) is written by the build, next to them.

const require = createRequire(import.meta.url)
const DIST = join(import.meta.dirname, '..', '..', 'dist', 'coverage')
const cache = mkdtempSync(join(tmpdir(), 'sc-plans-'))
let store: typeof import('../../src/coverage/plan-store.js')
let plain: typeof import('../../src/coverage/convert-plain.js')
let parseWithAcorn: typeof import('../../src/coverage/parse.js')['parseWithAcorn']

beforeAll(async () => {
  // Read once, at the first lookup: set before any.
  process.env.SERVER_COVERAGE_CACHE_DIR = cache
  store = await import(pathToFileURL(join(DIST, 'plan-store.js')).href)
  plain = await import(pathToFileURL(join(DIST, 'convert-plain.js')).href)
  ;({ parseWithAcorn } = await import(pathToFileURL(join(DIST, 'parse.js')).href))
})

afterAll(() => {
  delete process.env.SERVER_COVERAGE_CACHE_DIR
  rmSync(cache, { recursive: true, force: true })
})

const packageFiles = (name: string): string[] => {
  const dir = dirname(require.resolve(`${name}/package.json`))
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.js$/.test(file) && !file.split('/').includes('node_modules'))
    .map((file) => join(dir, file))
}

const coverage = (path: string, code: string): ScriptCov => ({
  scriptId: '1',
  url: pathToFileURL(path).href,
  functions: [{ functionName: '', isBlockCoverage: true, ranges: [{ startOffset: 0, endOffset: code.length, count: 3 }, { startOffset: Math.floor(code.length / 3), endOffset: Math.floor(code.length / 2), count: 0 }] }],
})

async function planOf(path: string, code: string): Promise<PlainPlan | undefined> {
  return plain.planPlain(path, code, parseWithAcorn(code))
}

test('a stored plan, read back, converts every file exactly as the fresh plan (express, body-parser, qs, picomatch and a file with unplaced branch locations)', async () => {
  const snippet = join(cache, 'snippet.js')
  writeFileSync(snippet, 'function f(a) { if (a) b(); switch (a) { case 1: } return a || c }\nf(1)\n')
  const files = [...packageFiles('express'), ...packageFiles('body-parser'), ...packageFiles('qs'), ...packageFiles('picomatch'), snippet]
  let checked = 0
  for (const path of files) {
    const code = readFileSync(path, 'utf8')
    if (!plain.isPlainScript(code, path)) continue
    const fresh = await planOf(path, code)
    if (!fresh) continue
    store.storePlan(path, code, parseWithAcorn, fresh)
    const stored = store.readStoredPlan(path, code, parseWithAcorn)
    expect(stored, path).toBeDefined()
    expect(stored!.maps?.meta.fnNames).toBeInstanceOf(Map)
    expect(plain.applyPlan(stored!, coverage(path, code)), path).toStrictEqual(plain.applyPlan((await planOf(path, code))!, coverage(path, code)))
    checked++
  }
  expect(checked).toBeGreaterThan(25)
  // The snippet has an `if` without `else`: its branch location is undefined at both ends, and survives the store.
  const stored = store.readStoredPlan(snippet, readFileSync(snippet, 'utf8'), parseWithAcorn)!
  expect(Object.values(stored.maps!.branchMap).some((branch) => branch.locations.some((location) => 'line' in location.start && location.start.line === undefined))).toBe(true)
})

test('a plan is used only for the same code, the same parser and an intact entry; a parser without a key is never stored', async () => {
  const path = join(cache, 'app.js')
  const code = 'export function add(a, b) { return a > 0 ? a + b : b }\n'
  const plan = (await planOf(path, code))!
  store.storePlan(path, code, parseWithAcorn, plan)
  expect(store.readStoredPlan(path, code, parseWithAcorn)).toBeDefined()
  // Edited (same length, one character), another parser, another path.
  expect(store.readStoredPlan(path, code.replace('a + b', 'a - b'), parseWithAcorn)).toBeUndefined()
  expect(store.readStoredPlan(path, code, Object.assign(() => undefined, { cacheKey: 'another-parser@1' }))).toBeUndefined()
  expect(store.readStoredPlan(join(cache, 'other.js'), code, parseWithAcorn)).toBeUndefined()
  // Truncated: the entry is not used.
  const entries = readdirSync(join(cache, 'plans')).filter((name) => name.endsWith('.plan'))
  const ours = entries.map((name) => join(cache, 'plans', name)).filter((file) => readFileSync(file, 'utf8').includes(`"path":${JSON.stringify(path)}`))
  expect(ours).toHaveLength(1)
  writeFileSync(ours[0]!, readFileSync(ours[0]!, 'utf8').slice(0, -20))
  expect(store.readStoredPlan(path, code, parseWithAcorn)).toBeUndefined()
  // A parser without a cacheKey (a runner's own, unnamed): nothing on disk for it.
  const before = readdirSync(join(cache, 'plans')).length
  store.storePlan(join(cache, 'unnamed.js'), code, Object.assign((text: string) => parseWithAcorn(text)), plan)
  expect(readdirSync(join(cache, 'plans')).length).toBe(before)
})

test('in a CI job (CI set) plans are stored only where SERVER_COVERAGE_CACHE_DIR names a folder', () => {
  // A fresh process each (the folder is decided once per process), in a project that has a node_modules.
  const project = mkdtempSync(join(tmpdir(), 'sc-plans-ci-'))
  try {
    mkdirSync(join(project, 'node_modules'))
    const script = `
      const store = await import(${JSON.stringify(pathToFileURL(join(DIST, 'plan-store.js')).href)})
      const plain = await import(${JSON.stringify(pathToFileURL(join(DIST, 'convert-plain.js')).href)})
      const { parseWithAcorn } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'parse.js')).href)})
      const code = 'function f(a) { return a ? 1 : 2 }\\n'
      const path = ${JSON.stringify(join(project, 'f.js'))}
      store.storePlan(path, code, parseWithAcorn, await plain.planPlain(path, code, parseWithAcorn(code)))`
    const run = (env: Record<string, string>): void => {
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, env: { PATH: process.env.PATH!, ...env }, encoding: 'utf8' })
      expect(result.status, result.stderr).toBe(0)
    }
    const plans = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.plan')) : [])
    run({ CI: 'true' })
    expect(existsSync(join(project, 'node_modules', '.cache'))).toBe(false)
    run({ CI: 'true', SERVER_COVERAGE_CACHE_DIR: join(project, 'ci-cache') })
    expect(plans(join(project, 'ci-cache', 'plans'))).toHaveLength(1)
    run({})
    expect(plans(join(project, 'node_modules', '.cache', 'server-coverage', 'plans'))).toHaveLength(1)
  } finally {
    rmSync(project, { recursive: true, force: true })
  }
})
