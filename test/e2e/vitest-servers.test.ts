import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { NODE, REPO, fileCoverage, lineOf, makeProject, readCoverage, runVitest, statementHits, tempDirs } from './harness.js'

const track = tempDirs()

function project(name: string): string {
  const dir = makeProject(name)
  track(dir)
  return dir
}

const nodeMajor = Number(execFileSync(NODE, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim())

describe.each(['v8', 'istanbul'])('a file run by both the tests and the server (%s)', (provider) => {
  test('is counted once: Vitest\'s statement map, hits of both sides added', async () => {
    const dir = project('shared')
    const run = await runVitest(dir, ['run', '--coverage'], { PROVIDER: provider })
    expect(run.code, run.output).toBe(0)
    expect(run.output).not.toContain('did not line up')
    const math = fileCoverage(readCoverage(dir), dir, 'src/math.js')
    // 3 calls from the test, 5 from the server.
    expect(statementHits(math, lineOf(dir, 'src/math.js', 'const sum'))).toBe(8)
    expect(statementHits(math, lineOf(dir, 'src/math.js', "return 'nobody"))).toBe(0)
    // Exactly the statements of the file, none duplicated: 2 in add, 1 in neverCalled.
    expect(Object.keys(math.statementMap)).toHaveLength(3)
    expect(Object.keys(math.fnMap)).toHaveLength(2)
  })
})

describe('TypeScript servers report .ts lines', () => {
  const check = (dir: string, output: string): void => {
    const coverage = readCoverage(dir)
    expect(Object.keys(coverage).filter((file) => !file.endsWith('.ts')), output).toEqual([])
    const server = fileCoverage(coverage, dir, 'src/server.ts')
    expect(statementHits(server, lineOf(dir, 'src/server.ts', 'count += 1'))).toBe(6)
    expect(statementHits(server, lineOf(dir, 'src/server.ts', "throw new Error('not called')"))).toBe(0)
  }

  test('tsx (source map from Node\'s source-map-cache, code only in memory)', async () => {
    const dir = project('typescript')
    const tsx = join(REPO, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs')
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_COMMAND: `node --import ${tsx} src/server.ts` })
    expect(run.code, run.output).toBe(0)
    check(dir, run.output)
  })

  test('tsc output with source maps', async () => {
    const dir = project('typescript')
    execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir])
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_COMMAND: 'node dist/server.js' })
    expect(run.code, run.output).toBe(0)
    check(dir, run.output)
  })

  test.skipIf(nodeMajor < 23)('Node type stripping (no source map)', async () => {
    const dir = project('typescript')
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_COMMAND: 'node src/server.ts' })
    expect(run.code, run.output).toBe(0)
    check(dir, run.output)
  })
})

test('fork children and worker threads are covered', async () => {
  const dir = project('children')
  const run = await runVitest(dir, ['run', '--coverage'])
  expect(run.code, run.output).toBe(0)
  const coverage = readCoverage(dir)
  expect(statementHits(fileCoverage(coverage, dir, 'src/child.js'), lineOf(dir, 'src/child.js', 'const doubled'))).toBe(3)
  expect(statementHits(fileCoverage(coverage, dir, 'src/thread.js'), lineOf(dir, 'src/thread.js', 'const squared'))).toBe(4)
  // server process + fork child + worker thread
  expect(run.output).toMatch(/collected coverage from 3 processes/)
})

test("the app's own SIGTERM handler runs, and its in-flight request completes", async () => {
  const dir = project('graceful')
  const run = await runVitest(dir, ['run', '--coverage'])
  expect(run.code, run.output).toBe(0)
  const events = readFileSync(join(dir, 'events.log'), 'utf8').trim().split('\n')
  // The client (a Vitest worker) may hang up first, so 'server closed' can come before or after
  // the slow request completes; what matters is that the app's handler ran and the process lived
  // until the in-flight request finished.
  expect([...events].sort()).toEqual(['app SIGTERM handler ran', 'server closed', 'slow request completed', 'slow request started'])
  expect(events.indexOf('app SIGTERM handler ran')).toBeLessThan(events.indexOf('slow request completed'))
  expect(run.output).not.toContain('SIGKILL')
})

test('an app module hosted by our own cluster (`app`, `workers`)', async () => {
  const dir = project('app')
  const run = await runVitest(dir, ['run', '--coverage'])
  expect(run.code, run.output).toBe(0)
  expect(run.output).toContain('starting "app src/app.js (2 workers)"')
  expect(run.output).toMatch(/APP_PIDS=\d+,\d+/)
  // host primary + 2 workers registered; the host's own code is not reported
  expect(run.output).toMatch(/collected coverage from 3 processes, 1 file /)
  const app = fileCoverage(readCoverage(dir), dir, 'src/app.js')
  expect(statementHits(app, lineOf(dir, 'src/app.js', 'const body'))).toBe(30)
  expect(statementHits(app, lineOf(dir, 'src/app.js', "res.send('never requested')"))).toBe(0)
  // Import-time lines run once in each worker; the host's primary never loads the app.
  expect(statementHits(app, lineOf(dir, 'src/app.js', 'const app = express()'))).toBe(2)
})
