import { describe, expect, test } from 'vitest'
import { VITEST_VERSION, fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, runVitest, statementHits, tempDirs } from './harness.js'

const track = tempDirs()

function project(): string {
  const dir = makeProject('cluster')
  track(dir)
  return dir
}

describe.each(['v8', 'istanbul'])('a 4-worker cluster server under the %s provider', (provider) => {
  test('counts every hit of every worker once, and the primary\'s own lines', async () => {
    const dir = project()
    const mark = newMark()
    const run = await runVitest(dir, ['run', '--coverage'], { PROVIDER: provider, HITS: '40', WORKERS: '4', SC_E2E_MARK: mark })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain(`RUN  v${VITEST_VERSION}`)
    // The requests really were spread over the four workers.
    const workerPids = run.output.match(/WORKER_PIDS=([\d,]+)/)?.[1]?.split(',') ?? []
    expect(workerPids.length, run.output).toBe(4)
    expect(run.output).toMatch(/collected coverage from 5 processes, 2 files/)

    const coverage = readCoverage(dir)
    const routes = fileCoverage(coverage, dir, 'src/routes.js')
    expect(statementHits(routes, lineOf(dir, 'src/routes.js', "JSON.stringify({ hello"))).toBe(40)
    expect(statementHits(routes, lineOf(dir, 'src/routes.js', "'never called by the tests'"))).toBe(0)
    const server = fileCoverage(coverage, dir, 'server.js')
    // Primary-only lines: run once by the primary, the fork loop body once per worker.
    expect(statementHits(server, lineOf(dir, 'server.js', 'console.log(primaryBanner'))).toBe(1)
    expect(statementHits(server, lineOf(dir, 'server.js', 'http.createServer'))).toBe(4)
    // No statement was added twice: the server's map equals Vitest's own map of the file.
    expect(Object.keys(routes.statementMap)).toHaveLength(9)
    // Nothing is left running.
    expect(processesMarked(mark)).toEqual([])
  })
})

describe('thresholds decided by server-only code', () => {
  test('fail when the tests leave server routes unrun', async () => {
    const dir = project()
    const run = await runVitest(dir, ['run', '--coverage'], { WORKERS: '2', THRESHOLD_LINES: '90', HITS: '4' })
    expect(run.code, run.output).toBe(1)
    expect(run.output).toMatch(/Coverage for lines \([\d.]+%\) does not meet global threshold \(90%\)/)
  })

  test('pass when the tests run every route', async () => {
    const dir = project()
    const run = await runVitest(dir, ['run', '--coverage'], { WORKERS: '2', THRESHOLD_LINES: '90', HITS: '4', ALL_ROUTES: '1' })
    expect(run.code, run.output).toBe(0)
    expect(fileCoverage(readCoverage(dir), dir, 'src/routes.js').s).not.toContain(0)
  })
})

describe('without --coverage', () => {
  test('the server still boots for the tests, and nothing is collected', async () => {
    const dir = project()
    const mark = newMark()
    const run = await runVitest(dir, ['run'], { WORKERS: '2', HITS: '4', SC_E2E_MARK: mark })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain('(coverage off)')
    expect(run.output).not.toContain('collected coverage')
    expect(processesMarked(mark)).toEqual([])
  })
})

describe('a failing test', () => {
  test('still stops every server process', async () => {
    const dir = project()
    const mark = newMark()
    const run = await runVitest(dir, ['run', '--coverage'], { WORKERS: '2', HITS: '4', FAIL_TEST: '1', SC_E2E_MARK: mark })
    expect(run.code, run.output).toBe(1)
    expect(processesMarked(mark)).toEqual([])
  })
})
