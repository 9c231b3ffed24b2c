import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { eventually, fileCoverage, lineOf, newMark, processesMarked, statementHits, tempDirs, watchOutput } from './harness.js'
import { JEST_MAJOR, JEST_VERSION, makeJestProject, readJestCoverage, runJest, startJest } from './jest-harness.js'

const track = tempDirs()

function project(): string {
  const dir = makeJestProject('cluster')
  track(dir)
  return dir
}


// Jest 29 says `"global" coverage threshold for lines (90%) not met: 61.5%`, Jest 30
// `Coverage for lines (61.5%) does not meet "global" threshold (90%)`.
const thresholdMessage = (group: string): RegExp =>
  new RegExp(`Jest: (Coverage for lines \\([\\d.]+%\\) does not meet "${group}" threshold \\(90%\\)|"${group}" coverage threshold for lines \\(90%\\) not met)`)

describe.each([
  ['v8', []],
  ['babel', ['--runInBand']],
] as const)(`a 4-worker ESM cluster server on Jest ${JEST_VERSION}, %s provider`, (provider, extraArgs) => {
  test("counts every hit of every worker once, and the primary's own lines", async () => {
    const dir = project()
    const mark = newMark()
    const run = await runJest(dir, ['--coverage', ...extraArgs], { PROVIDER: provider, HITS: '40', WORKERS: '4', SERVER_MARK: mark })
    expect(run.code, run.output).toBe(0)
    const workerPids = run.output.match(/WORKER_PIDS=([\d,]+)/)?.[1]?.split(',') ?? []
    expect(workerPids.length, run.output).toBe(4)
    expect(run.output).toMatch(/collected coverage from 5 processes, 2 files/)
    // Jest's own text table lists the server files.
    expect(run.output).toMatch(/routes\.mjs\s+\|/)

    const coverage = readJestCoverage(dir)
    const routes = fileCoverage(coverage, dir, 'src/routes.mjs')
    expect(statementHits(routes, lineOf(dir, 'src/routes.mjs', 'JSON.stringify({ hello'))).toBe(40)
    expect(statementHits(routes, lineOf(dir, 'src/routes.mjs', "'never called by the tests'"))).toBe(0)
    const server = fileCoverage(coverage, dir, 'server.mjs')
    // Primary-only lines run once; the line that starts each worker's listener runs once per worker.
    expect(statementHits(server, lineOf(dir, 'server.mjs', 'console.log(primaryBanner'))).toBe(1)
    expect(statementHits(server, lineOf(dir, 'server.mjs', 'http.createServer'))).toBe(4)
    // coveragePathIgnorePatterns applies to server files too.
    expect(Object.keys(coverage).filter((file) => file.includes('ignored'))).toEqual([])
    expect(processesMarked(mark)).toEqual([])
  })
})

describe('coverageThreshold decided by server-only code', () => {
  test('a global threshold fails when the tests leave server routes unrun', async () => {
    const run = await runJest(project(), ['--coverage'], { WORKERS: '2', HITS: '4', THRESHOLD_LINES: '90' })
    expect(run.code, run.output).toBe(1)
    expect(run.output).toMatch(thresholdMessage('global'))
  })

  test('a per-file threshold fails on the server file', async () => {
    const run = await runJest(project(), ['--coverage'], { WORKERS: '2', HITS: '4', THRESHOLD_FILE_LINES: '90', PROVIDER: 'babel' })
    expect(run.code, run.output).toBe(1)
    expect(run.output).toMatch(thresholdMessage('./src/routes.mjs'))
  })

  test('both pass when the tests run every route', async () => {
    const dir = project()
    const run = await runJest(dir, ['--coverage'], { WORKERS: '2', HITS: '4', THRESHOLD_LINES: '90', THRESHOLD_FILE_LINES: '90', ALL_ROUTES: '1' })
    expect(run.code, run.output).toBe(0)
    expect(Object.values(fileCoverage(readJestCoverage(dir), dir, 'src/routes.mjs').s)).not.toContain(0)
  })
})

test('without coverage the server still boots for the tests, and nothing is collected', async () => {
  const dir = project()
  const mark = newMark()
  const run = await runJest(dir, [], { WORKERS: '2', HITS: '4', SERVER_MARK: mark })
  expect(run.code, run.output).toBe(0)
  expect(run.output).toContain('(coverage off)')
  expect(run.output).not.toContain('collected coverage')
  expect(existsSync(join(dir, 'coverage'))).toBe(false)
  expect(processesMarked(mark)).toEqual([])
})

test(`--bail with a failing test leaves no server process behind (Jest ${JEST_MAJOR} ${JEST_MAJOR < 30 ? 'skips global teardown: the exit hook kills the group' : 'runs global teardown'})`, async () => {
  const dir = project()
  const mark = newMark()
  const run = await runJest(dir, ['--coverage', '--bail', '--runInBand'], { WORKERS: '2', HITS: '4', FAIL_TEST: '1', SERVER_MARK: mark })
  expect(run.code, run.output).toBe(1)
  expect(await eventually(() => processesMarked(mark).length === 0, 10_000)).toBe(true)
})

test('watch mode: each rerun reports the server coverage since the previous run; the server starts once', async () => {
  const dir = project()
  const mark = newMark()
  const { child, result } = startJest(dir, ['--watchAll', '--coverage'], { WORKERS: '2', HITS: '5', SERVER_MARK: mark })
  // A failed global setup does not end watch mode: fail at once rather than at the timeout.
  const output = watchOutput(child, 'Got error running globalSetup')
  try {
    // Jest writes coverage-final.json before its summary line "Ran all test suites."
    await output.waitFor(/Ran all test suites/, 1)
    const hello = (): number | undefined =>
      statementHits(fileCoverage(readJestCoverage(dir), dir, 'src/routes.mjs'), lineOf(dir, 'src/routes.mjs', 'JSON.stringify({ hello'))
    expect(hello(), output.text()).toBe(5)
    const serverPids = processesMarked(mark).sort()
    expect(serverPids).toHaveLength(3)

    const testFile = join(dir, 'test', 'api.test.js')
    writeFileSync(testFile, readFileSync(testFile, 'utf8').replace('Number(process.env.HITS ?? 40)', '2'))
    await output.waitFor(/Ran all test suites/, 2)
    expect(hello(), output.text()).toBe(2)
    expect(processesMarked(mark).sort()).toEqual(serverPids)
    expect(output.text().match(/starting "node server.mjs"/g)).toHaveLength(1)
  } finally {
    child.kill('SIGINT')
    await result
  }
  expect(await eventually(() => processesMarked(mark).length === 0, 10_000)).toBe(true)
})
