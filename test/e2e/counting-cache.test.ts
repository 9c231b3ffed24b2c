import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { ServerOptions } from '../../dist/index.js'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, test } from 'vitest'
import { mergeInto } from '../../dist/coverage/merge-into.js'
import { startServerCoverage } from '../../dist/index.js'
import { copyFixture, NODE, REPO, tempDirs } from './harness.js'

// Counting on load's cache of instrumented code (src/agent/instrument-cache.cts): a run that
// uses it must give the report a run without it gives, and an entry that does not belong to the
// file as it is now (edited, truncated, corrupt) must never be run. Real servers (NODE, 2 workers
// plus the primary: 3 processes load every file), through the library as users call it.

const FIXTURES = join(REPO, 'test', 'fixtures', 'projects', 'counting-load')
const track = tempDirs()

/**
 * A copy of the counting-load fixture with a `node_modules` folder of its own ('own'), in
 * `packages/app` of a workspace whose root has the `node_modules` ('workspace'), or in the system's
 * temp folder with no `node_modules` anywhere up ('none'; the repository has one, so not under it).
 */
function project(flavour: 'esm' | 'cjs', layout: 'own' | 'workspace' | 'none' = 'own'): string {
  const base = layout === 'none' ? tmpdir() : join(REPO, '.e2e-tmp')
  mkdirSync(base, { recursive: true })
  const root = track(mkdtempSync(join(base, `counting-cache-${flavour}-`)))
  const dir = layout === 'workspace' ? join(root, 'packages', 'app') : root
  mkdirSync(dir, { recursive: true })
  copyFixture(join(FIXTURES, flavour), dir)
  if (layout !== 'none') mkdirSync(join(root, 'node_modules'))
  return dir
}

const cacheDir = (cwd: string): string => join(cwd, 'node_modules', '.cache', 'server-coverage')

/** Folders from `dir` up to the root that have a `node_modules`. */
function modulesUp(dir: string): string[] {
  const found: string[] = []
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'node_modules'))) found.push(at)
    if (dirname(at) === at) return found
  }
}

/** Every request of the workload: answers included, so a test can see which code ran. */
const WORKLOAD = ['/health', '/switch?n=0', '/switch?n=3', '/switch?n=4', '/switch?n=200', '/try?mode=throw', '/loops?n=3', '/gen?n=2', '/class', '/ops?n=7', '/throws']

interface Run {
  /** Every read (startup, the workload, then the stop's), summed. */
  report: CoverageMapData
  answers: string[]
}

async function run(cwd: string, counting: 'v8' | 'load'): Promise<Run> {
  const options: ServerOptions = { command: `${NODE} server.js`, url: '/health', cwd, env: { WORKERS: '2' }, exclude: ['src/ready.js'], counting }
  const session = await startServerCoverage(options, { root: cwd, log: () => {} })
  try {
    const base = session.urls.server!
    // Both workers serve before the first read (round robin): every process has loaded every file.
    const pids = new Set<string>()
    for (let attempt = 0; attempt < 2000 && pids.size < 2; attempt++) pids.add(await (await fetch(`${base}/pid`, { headers: { connection: 'close' } })).text())
    expect(pids.size).toBe(2)
    // Startup included: /pid is answered by src/ready.js (excluded), so this read does not depend on timing.
    const report: CoverageMapData = {}
    mergeInto(report, (await session.collect()).data)
    const answers: string[] = []
    for (const path of WORKLOAD) answers.push(await (await fetch(base + path, { headers: { connection: 'close' } })).text())
    mergeInto(report, (await session.collect()).data)
    const last = await session.stop({ collect: true })
    mergeInto(report, last?.data ?? {})
    return { report, answers }
  } finally {
    await session.stop()
  }
}

/** The cache's entries by the URL in their header, with what identifies the file on disk. */
function entries(cwd: string): Map<string, { name: string; ino: number; mtimeMs: number; text: string }> {
  const dir = cacheDir(cwd)
  const found = new Map<string, { name: string; ino: number; mtimeMs: number; text: string }>()
  for (const name of readdirSync(dir)) {
    const text = readFileSync(join(dir, name), 'utf8')
    const { url } = JSON.parse(text.slice(0, text.indexOf('\n'))) as { url: string }
    const { ino, mtimeMs } = statSync(join(dir, name))
    found.set(url, { name, ino, mtimeMs, text })
  }
  return found
}

const urlOf = (cwd: string, file: string): string => pathToFileURL(join(cwd, file)).href

/** Equal reports, file by file (the message names the file), and not vacuously: shapes.js ran. */
function expectEqualReports(actual: CoverageMapData, expected: CoverageMapData, cwd: string): void {
  expect(Object.keys(actual).sort()).toEqual([join(cwd, 'server.js'), join(cwd, 'src/shapes.js')])
  expect(Object.keys(expected).sort()).toEqual(Object.keys(actual).sort())
  for (const file of Object.keys(expected)) expect(actual[file], file).toEqual(expected[file])
  expect(Object.values(actual[join(cwd, 'src/shapes.js')]!.s).filter((hits) => hits > 0).length).toBeGreaterThan(20)
}

describe('counting on load: the cache of instrumented code', () => {
  for (const flavour of ['esm', 'cjs'] as const) {
    test(`${flavour === 'esm' ? 'ES modules (load hook)' : 'CommonJS (_compile)'}: a second run hits every entry and reports exactly what the first did, which is V8's`, async () => {
      const cwd = project(flavour)
      const first = await run(cwd, 'load')
      const made = entries(cwd)
      // One private folder, one entry per instrumented file (src/ready.js is excluded: not instrumented).
      expect(statSync(cacheDir(cwd)).mode & 0o777).toBe(0o700)
      expect([...made.keys()].sort()).toEqual([urlOf(cwd, 'server.js'), urlOf(cwd, 'src/shapes.js')])
      const second = await run(cwd, 'load')
      // A process that missed would have instrumented and renamed a new entry into place.
      const after = entries(cwd)
      for (const [url, entry] of made) expect({ url, ino: after.get(url)!.ino, mtimeMs: after.get(url)!.mtimeMs }).toEqual({ url, ino: entry.ino, mtimeMs: entry.mtimeMs })
      expect(readdirSync(cacheDir(cwd))).toHaveLength(2) // no temp files left behind
      expect(second.answers).toEqual(first.answers)
      expectEqualReports(second.report, first.report, cwd)
      expectEqualReports(second.report, (await run(cwd, 'v8')).report, cwd)
    })
  }

  test('a file edited between runs: its stale entry is not run, and the report follows the edit like V8', async () => {
    const cwd = project('esm')
    const before = await run(cwd, 'load')
    const shapes = join(cwd, 'src/shapes.js')
    const stale = entries(cwd).get(urlOf(cwd, 'src/shapes.js'))!
    // A line more (every later offset moves) and a branch of its own.
    writeFileSync(shapes, readFileSync(shapes, 'utf8').replace("      return 'three-or-four'", "      if (n === 4) return 'four (edited)'\n      return 'three-or-four'"))
    const load = await run(cwd, 'load')
    const v8 = await run(cwd, 'v8')
    expect(before.answers[WORKLOAD.indexOf('/switch?n=4')]).toBe('"three-or-four"')
    expect(load.answers[WORKLOAD.indexOf('/switch?n=4')]).toBe('"four (edited)"')
    expect(load.answers).toEqual(v8.answers)
    expectEqualReports(load.report, v8.report, cwd)
    // The entry was made again, from the edited file.
    const fresh = entries(cwd).get(urlOf(cwd, 'src/shapes.js'))!
    expect(fresh.ino).not.toBe(stale.ino)
    expect(fresh.text).toContain("if (n === 4) return 'four (edited)'")
  })

  test('truncated and corrupt entries are ignored (and replaced): the report is V8\'s', async () => {
    const cwd = project('cjs')
    await run(cwd, 'load')
    const made = entries(cwd)
    const shapes = made.get(urlOf(cwd, 'src/shapes.js'))!
    const server = made.get(urlOf(cwd, 'server.js'))!
    // Cut inside the instrumented code: the header still parses, the lengths do not add up.
    writeFileSync(join(cacheDir(cwd), shapes.name), shapes.text.slice(0, shapes.text.length - 200))
    // Same length, one character of the instrumented code changed (a counter index): the checksum differs.
    const at = server.text.lastIndexOf('__scc[1]++')
    expect(at).toBeGreaterThan(0)
    writeFileSync(join(cacheDir(cwd), server.name), `${server.text.slice(0, at)}__scc[0]++${server.text.slice(at + '__scc[1]++'.length)}`)
    const load = await run(cwd, 'load')
    expectEqualReports(load.report, (await run(cwd, 'v8')).report, cwd)
    const after = entries(cwd)
    expect(after.get(urlOf(cwd, 'src/shapes.js'))!.text).toBe(shapes.text)
    expect(after.get(urlOf(cwd, 'server.js'))!.text).toBe(server.text)
  })

  test('a cache folder that cannot be written (a file stands where it goes) breaks nothing', async () => {
    const cwd = project('esm')
    mkdirSync(join(cwd, 'node_modules', '.cache'))
    writeFileSync(cacheDir(cwd), 'not a folder')
    const load = await run(cwd, 'load')
    expectEqualReports(load.report, (await run(cwd, 'v8')).report, cwd)
    expect(readFileSync(cacheDir(cwd), 'utf8')).toBe('not a folder')
  })

  test('a workspace package (node_modules only at the workspace root): the cache is the root\'s, and it hits', async () => {
    const cwd = project('cjs', 'workspace')
    const root = dirname(dirname(cwd))
    const first = await run(cwd, 'load')
    expect(existsSync(join(cwd, 'node_modules'))).toBe(false)
    const made = entries(root)
    expect([...made.keys()].sort()).toEqual([urlOf(cwd, 'server.js'), urlOf(cwd, 'src/shapes.js')])
    const second = await run(cwd, 'load')
    for (const [url, entry] of entries(root)) expect({ url, ino: entry.ino }).toEqual({ url, ino: made.get(url)!.ino })
    expectEqualReports(second.report, first.report, cwd)
  })

  test('entries not written for 30 days and temp files left by a killed writer are removed when a session starts; the rest stays', async () => {
    const cwd = project('esm')
    await run(cwd, 'load')
    const made = entries(cwd)
    const dir = cacheDir(cwd)
    const old = (Date.now() - 31 * 24 * 3600_000) / 1000
    const stale = join(dir, 'ffffffff-v8-1.cache')
    const temp = join(dir, 'ffffffff-v8-1.cache.123-abc.tmp')
    writeFileSync(stale, 'an entry of a file that moved away')
    writeFileSync(temp, 'half an entry')
    utimesSync(stale, old, old)
    utimesSync(temp, Date.now() / 1000 - 7200, Date.now() / 1000 - 7200)
    const second = await run(cwd, 'load')
    expect(existsSync(stale)).toBe(false)
    expect(existsSync(temp)).toBe(false)
    // The live entries stayed and were hit (same inodes), and the report is the first run's.
    for (const [url, entry] of entries(cwd)) expect({ url, ino: entry.ino }).toEqual({ url, ino: made.get(url)!.ino })
    expect(second.answers.length).toBe(WORKLOAD.length)
  })

  test('no node_modules in the server\'s cwd nor above it: nothing is cached, and no folder is made', async () => {
    const cwd = project('esm', 'none')
    expect(modulesUp(cwd)).toEqual([])
    const load = await run(cwd, 'load')
    expectEqualReports(load.report, (await run(cwd, 'v8')).report, cwd)
    expect(existsSync(join(cwd, 'node_modules'))).toBe(false)
  })
})
