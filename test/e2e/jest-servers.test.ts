import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { REPO, fileCoverage, lineOf, newMark, processesMarked, statementHits, tempDirs } from './harness.js'
import { JEST_VERSION, makeJestProject, readJestCoverage, runJest } from './jest-harness.js'

const track = tempDirs()

function project(name: string): string {
  const dir = makeJestProject(name)
  track(dir)
  return dir
}

describe(`a file run by both the tests and the server (Jest ${JEST_VERSION})`, () => {
  // 3 calls of add() from the test, 5 from the server (one per request).
  test('v8: a union of both sides, nothing counted twice', async () => {
    const dir = project('shared')
    const run = await runJest(dir, ['--coverage'], { PROVIDER: 'v8' })
    expect(run.code, run.output).toBe(0)
    const math = fileCoverage(readJestCoverage(dir), dir, 'src/math.js')
    expect(statementHits(math, lineOf(dir, 'src/math.js', 'const sum'))).toBe(8)
    expect(statementHits(math, lineOf(dir, 'src/math.js', "return 'nobody"))).toBe(0)
    // The module's top level ran once in the test's module registry and once in the server.
    expect(statementHits(math, lineOf(dir, 'src/math.js', 'module.exports'))).toBe(2)
    // Jest's v8 conversion: one statement per line (10 lines), each function once.
    expect(Object.keys(math.statementMap)).toHaveLength(10)
    expect(Object.values(math.fnMap).map((fn) => fn.name)).toEqual(['add', 'neverCalled'])
    expect(Object.values(math.f)).toEqual([8, 0])
  })

  // The server's counts come from V8's counters or, with `counting: 'load'`, from counting on load:
  // the same numbers on the tests' map either way.
  test.each(['v8', 'load'] as const)("babel: the server's hits on the tests' statement map (server counting: %s)", async (counting) => {
    const dir = project('shared')
    writeFileSync(join(dir, 'server-coverage.config.json'), JSON.stringify({ command: 'node server.js', counting }))
    const run = await runJest(dir, ['--coverage'], { PROVIDER: 'babel' })
    expect(run.code, run.output).toBe(0)
    expect(run.output).not.toContain('did not line up')
    const math = fileCoverage(readJestCoverage(dir), dir, 'src/math.js')
    expect(statementHits(math, lineOf(dir, 'src/math.js', 'const sum'))).toBe(8)
    expect(statementHits(math, lineOf(dir, 'src/math.js', "return 'nobody"))).toBe(0)
    expect(statementHits(math, lineOf(dir, 'src/math.js', 'module.exports'))).toBe(2)
    // babel-plugin-istanbul's map, not a second one: 2 in add, 1 in neverCalled, 1 export.
    expect(Object.keys(math.statementMap)).toHaveLength(4)
    expect(Object.values(math.fnMap).map((fn) => fn.name)).toEqual(['add', 'neverCalled'])
    expect(Object.values(math.f)).toEqual([8, 0])
  })

  test("v8 provider with the server counted on load: refused at setup, naming the option and what to use (Jest converts raw V8 itself, per function)", async () => {
    const dir = project('shared')
    writeFileSync(join(dir, 'server-coverage.config.json'), JSON.stringify({ command: 'node server.js', counting: 'load' }))
    const run = await runJest(dir, ['--coverage'], { PROVIDER: 'v8' })
    expect(run.code).not.toBe(0)
    expect(run.output).toContain("server-coverage: the `counting` option 'load'")
    expect(run.output).toContain("coverageProvider: 'babel'")
  })
})

describe('TypeScript servers report .ts lines', () => {
  const check = (dir: string, output: string): void => {
    const coverage = readJestCoverage(dir)
    expect(Object.keys(coverage).filter((file) => !file.endsWith('.ts')), output).toEqual([])
    const server = fileCoverage(coverage, dir, 'src/server.ts')
    expect(statementHits(server, lineOf(dir, 'src/server.ts', 'count += 1'))).toBe(6)
    expect(statementHits(server, lineOf(dir, 'src/server.ts', "throw new Error('not called')"))).toBe(0)
  }
  const tsx = join(REPO, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs')

  test.each(['v8', 'babel'])('tsx (code only in memory, source map from Node), %s provider', async (provider) => {
    const dir = project('typescript')
    const run = await runJest(dir, ['--coverage'], { PROVIDER: provider, SERVER_COMMAND: `node --import ${tsx} src/server.ts` })
    expect(run.code, run.output).toBe(0)
    check(dir, run.output)
  })

  test.each(['v8', 'babel'])('tsc output with source maps, %s provider', async (provider) => {
    const dir = project('typescript')
    execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir])
    const run = await runJest(dir, ['--coverage'], { PROVIDER: provider, SERVER_COMMAND: 'node dist/server.js' })
    expect(run.code, run.output).toBe(0)
    check(dir, run.output)
  })
})

describe.each(['v8', 'babel'])('Jest projects with a server each (%s provider)', (provider) => {
  test('URLs keyed per project, both servers in the one report, root thresholds apply', async () => {
    const dir = project('projects')
    const mark = newMark()
    const run = await runJest(dir, ['--coverage'], { PROVIDER: provider, SERVER_MARK: mark })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain('Ran all test suites in 2 projects')
    const coverage = readJestCoverage(dir)
    // The api test made 3 requests, the web test 2: each to its own project's server.
    expect(statementHits(fileCoverage(coverage, dir, 'api/server.js'), lineOf(dir, 'api/server.js', 'served += 1'))).toBe(3)
    expect(statementHits(fileCoverage(coverage, dir, 'web/server.js'), lineOf(dir, 'web/server.js', 'served += 1'))).toBe(2)
    expect(processesMarked(mark)).toEqual([])
  })
})

test('Jest projects: the root coverageThreshold sees the servers\' files', async () => {
  const dir = project('projects')
  const run = await runJest(dir, ['--coverage'], { THRESHOLD_LINES: '100' })
  expect(run.code, run.output).toBe(0)
  expect(run.output).toMatch(/All files\s+\|\s+100 \|/)
})
