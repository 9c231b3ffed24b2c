import type { CoverageMapData } from 'istanbul-lib-coverage'
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, runCli, runVitest, statementHits, tempDirs } from './harness.js'

const track = tempDirs()

function project(name = 'cli'): string {
  const dir = makeProject(name)
  track(dir)
  return dir
}

const helloHits = (coverage: CoverageMapData, dir: string): number | undefined =>
  statementHits(fileCoverage(coverage, dir, 'src/routes.js'), lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))

describe('server-coverage run', () => {
  test('a node:test suite against a 2-worker cluster server, options from the config file', async () => {
    const dir = project()
    const mark = newMark()
    const run = await runCli(dir, ['run', '--', 'node', '--test', 'test/hello.test.mjs', 'test/never.test.mjs'], { HITS: '12', SC_E2E_MARK: mark })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/collected coverage from 3 processes, 2 files/)
    expect(run.output).toMatch(/% Stmts/)
    const coverage = readCoverage(dir)
    expect(helloHits(coverage, dir)).toBe(12)
    expect(statementHits(fileCoverage(coverage, dir, 'src/routes.js'), lineOf(dir, 'src/routes.js', "'never called by the tests'"))).toBe(1)
    expect(statementHits(fileCoverage(coverage, dir, 'server.js'), lineOf(dir, 'server.js', 'console.log(primaryBanner'))).toBe(1)
    expect(processesMarked(mark)).toEqual([])
  })

  test("exits with the test command's code, and still stops the server", async () => {
    const dir = project()
    const mark = newMark()
    const run = await runCli(dir, ['run', '--reporter', 'none', '--', 'node', '--test', 'test/hello.test.mjs'], { FAIL_TEST: '1', HITS: '1', SC_E2E_MARK: mark })
    expect(run.code, run.output).toBe(1)
    expect(processesMarked(mark)).toEqual([])
  })

  test('--merge-into adds the server files to a report another tool wrote', async () => {
    const dir = project()
    const other = join(dir, 'coverage', 'coverage-final.json')
    const existing = { '/somewhere/else/client.js': { path: '/somewhere/else/client.js', statementMap: { 0: { start: { line: 1, column: 0 }, end: { line: 1, column: 10 } } }, fnMap: {}, branchMap: {}, s: { 0: 3 }, f: {}, b: {} } }
    mkdirSync(join(dir, 'coverage'))
    writeFileSync(other, JSON.stringify(existing))
    const run = await runCli(dir, ['run', '--merge-into', 'coverage/coverage-final.json', '--reporter', 'text', '--', 'node', '--test', 'test/hello.test.mjs'], { HITS: '5' })
    expect(run.code, run.output).toBe(0)
    const merged = JSON.parse(readFileSync(other, 'utf8')) as CoverageMapData
    expect(merged['/somewhere/else/client.js']?.s).toEqual({ 0: 3 })
    expect(helloHits(merged, dir)).toBe(5)
  })

  test('flags instead of a config file; an invalid flag is a usage error (exit 2)', async () => {
    const dir = project()
    rmSync(join(dir, 'server-coverage.config.json'))
    const run = await runCli(dir, ['run', '--command', 'node server.js', '--url', '/health', '--env', 'WORKERS=2', '--include', 'src/**', '--', 'node', '--test', 'test/hello.test.mjs'], { HITS: '3' })
    expect(run.code, run.output).toBe(0)
    expect(Object.keys(readCoverage(dir))).toEqual([join(dir, 'src/routes.js')])
    const bad = await runCli(dir, ['run', '--command', 'node server.js', '--timeout', 'soon', '--', 'true'])
    expect(bad.code).toBe(2)
    expect(bad.output).toContain('expected the `--timeout` option to be an integer, got `soon`')
    const none = await runCli(dir, ['run', '--', 'true'])
    expect(none.code).toBe(2)
    expect(none.output).toContain('no server to start')
  })
})

describe('saved data, shards and moved checkouts', () => {
  test('two shards saved with --data-dir and merged equal one run of both', async () => {
    const dir = project()
    const a = await runCli(dir, ['run', '--data-dir', 'shard-a', '--reporter', 'none', '--', 'node', '--test', 'test/hello.test.mjs'], { HITS: '4' })
    const b = await runCli(dir, ['run', '--data-dir', 'shard-b', '--reporter', 'none', '--', 'node', '--test', 'test/never.test.mjs'])
    expect([a.code, b.code], a.output + b.output).toEqual([0, 0])
    const merged = await runCli(dir, ['merge', 'shard-a', 'shard-b', '--out', 'merged/coverage-final.json'])
    expect(merged.code, merged.output).toBe(0)
    const once = await runCli(dir, ['run', '--reporter', 'json', '--', 'node', '--test', 'test/hello.test.mjs', 'test/never.test.mjs'], { HITS: '4' })
    expect(once.code, once.output).toBe(0)
    const mergedData = JSON.parse(readFileSync(join(dir, 'merged', 'coverage-final.json'), 'utf8')) as CoverageMapData
    const single = readCoverage(dir)
    for (const file of ['src/routes.js', 'server.js']) {
      // Hits outside request handling (start-up) come from each shard's own server start.
      const routes = fileCoverage(mergedData, dir, file)
      expect(Object.keys(routes.statementMap)).toEqual(Object.keys(fileCoverage(single, dir, file).statementMap))
    }
    expect(helloHits(mergedData, dir)).toBe(4)
    expect(statementHits(fileCoverage(mergedData, dir, 'src/routes.js'), lineOf(dir, 'src/routes.js', "'never called by the tests'"))).toBe(1)
    // The server started twice, so its start-up lines count twice; request lines are equal.
    expect(statementHits(fileCoverage(mergedData, dir, 'server.js'), lineOf(dir, 'server.js', 'console.log(primaryBanner'))).toBe(2)
  })

  test('a moved checkout: relative saved data merges as is, absolute reports with --path-map', async () => {
    const dir = project()
    const run = await runCli(dir, ['run', '--data-dir', 'saved', '--reporter', 'json', '--', 'node', '--test', 'test/hello.test.mjs'], { HITS: '6' })
    expect(run.code, run.output).toBe(0)
    const moved = `${dir}-moved`
    renameSync(dir, moved)
    track(moved)
    const fromSaved = await runCli(moved, ['merge', 'saved', '--out', 'a.json'])
    const fromReport = await runCli(moved, ['merge', 'coverage/coverage-final.json', '--path-map', `${dir}=${moved}`, '--out', 'b.json'])
    expect([fromSaved.code, fromReport.code]).toEqual([0, 0])
    for (const out of ['a.json', 'b.json']) {
      const data = JSON.parse(readFileSync(join(moved, out), 'utf8')) as CoverageMapData
      expect(helloHits(data, moved)).toBe(6)
      expect(Object.keys(data).every((file) => file.startsWith(moved))).toBe(true)
    }
  })
})

describe('server-coverage check and report', () => {
  const report = { '/x/a.js': { path: '/x/a.js', statementMap: { 0: { start: { line: 1, column: 0 }, end: { line: 1, column: 5 } }, 1: { start: { line: 2, column: 0 }, end: { line: 2, column: 5 } } }, fnMap: {}, branchMap: {}, s: { 0: 1, 1: 0 }, f: {}, b: {} } }

  test('passes at or below the actual percentage, fails (exit 1) above it, usage errors exit 2', async () => {
    const dir = project()
    writeFileSync(join(dir, 'report.json'), JSON.stringify(report))
    const pass = await runCli(dir, ['check', '--statements', '50', 'report.json'])
    expect(pass.code, pass.output).toBe(0)
    const fail = await runCli(dir, ['check', '--statements', '80', '--per-file', 'report.json'])
    expect(fail.code).toBe(1)
    expect(fail.output).toContain('statements coverage of /x/a.js is 50%, below the 80% threshold')
    const usage = await runCli(dir, ['check', '--lines', '120', 'report.json'])
    expect(usage.code).toBe(2)
    expect(usage.output).toContain('a percentage from 0 to 100')
  })

  test('report writes the reporters asked for', async () => {
    const dir = project()
    writeFileSync(join(dir, 'report.json'), JSON.stringify(report))
    const run = await runCli(dir, ['report', '--reporter', 'text,json-summary,lcov', '--reports-dir', 'out', 'report.json'])
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain('a.js')
    expect(JSON.parse(readFileSync(join(dir, 'out', 'coverage-summary.json'), 'utf8')).total.statements.pct).toBe(50)
    expect(readFileSync(join(dir, 'out', 'lcov.info'), 'utf8')).toMatch(/SF:.*x\/a\.js/)
  })

  test('--help for every command', async () => {
    const dir = project()
    for (const command of ['run', 'report', 'merge', 'check']) {
      const help = await runCli(dir, [command, '--help'])
      expect(help.code).toBe(0)
      expect(help.output).toContain(`server-coverage ${command}`)
    }
  })
})

test('Vitest: three blob shards merged with --merge-reports equal the unsharded run', async () => {
  const dir = project('shards')
  for (const shard of [1, 2, 3]) {
    const run = await runVitest(dir, ['run', '--coverage', `--shard=${shard}/3`, '--reporter=blob'])
    expect(run.code, run.output).toBe(0)
  }
  const merged = await runVitest(dir, ['run', '--merge-reports', '--coverage'])
  expect(merged.code, merged.output).toBe(0)
  const fromShards = readCoverage(dir)
  rmSync(join(dir, 'coverage'), { recursive: true })
  const single = await runVitest(dir, ['run', '--coverage'])
  expect(single.code, single.output).toBe(0)
  const unsharded = readCoverage(dir)
  // 3 + 6 + 9 requests, whichever machine ran them.
  expect(helloHits(fromShards, dir)).toBe(18)
  expect(helloHits(unsharded, dir)).toBe(18)
  const routes = (coverage: CoverageMapData, marker: string): number | undefined =>
    statementHits(fileCoverage(coverage, dir, 'src/routes.js'), lineOf(dir, 'src/routes.js', marker))
  for (const marker of ["res.end('not found')", "'never called by the tests'"]) expect(routes(fromShards, marker)).toBe(routes(unsharded, marker))
  // Each shard boots its own server: one readiness probe per boot, the only difference.
  expect(routes(fromShards, "res.end('ok')")).toBe(3)
  expect(routes(unsharded, "res.end('ok')")).toBe(1)
  expect(Object.keys(fileCoverage(fromShards, dir, 'src/routes.js').statementMap)).toHaveLength(9)
})
