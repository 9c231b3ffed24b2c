import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import libCoverage from 'istanbul-lib-coverage'
import { expect, test } from 'vitest'
import { lineOf, makeProject, newMark, processesMarked, readCoverage, runCli, runVitest, tempDirs } from './harness.js'

// A realistic Express site (routers in several files, EJS views, static files, 404 and error
// pages) tested with supertest, run twice with the same test file: in-process under Vitest's own
// v8 coverage (the tests require the app), and against the app hosted by `app` with 4 workers.
// Hosting must not change which lines run.

const track = tempDirs()

/** Hits per line, per file relative to `dir`. */
function lineHits(coverage: CoverageMapData, dir: string): Record<string, Record<string, number>> {
  const result: Record<string, Record<string, number>> = {}
  for (const [path, data] of Object.entries(coverage)) {
    result[path.slice(dir.length + 1)] = libCoverage.createFileCoverage(data as FileCoverageData).getLineCoverage()
  }
  return result
}

/** Lines with hits > 0, per file. */
function coveredLines(hits: Record<string, Record<string, number>>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(hits).map(([file, lines]) => [file, Object.keys(lines).filter((line) => (lines[line] ?? 0) > 0).map(Number)]))
}

test('the hosted app covers the same lines as the in-process run, file by file; counted on load, the same report as with V8\'s counters', async () => {
  const dir = track(makeProject('app-express-site'))
  const inProcess = await runVitest(dir, ['run', '--coverage'])
  expect(inProcess.code, inProcess.output).toBe(0)
  expect(inProcess.output).toContain('Tests  17 passed (17)')
  const referenceHits = lineHits(readCoverage(dir), dir)
  const reference = coveredLines(referenceHits)
  expect(Object.keys(reference).sort()).toEqual(['app.js', 'lib/request-id.js', 'lib/users.js', 'routes/api.js', 'routes/home.js', 'routes/users.js'])

  const mark = newMark()
  // The project's cache folder, named so the converter's plans are stored even where CI is set.
  const cache = join(dir, 'node_modules', '.cache', 'server-coverage')
  const hosted = await runVitest(dir, ['run', '--coverage'], { MODE: 'hosted', SC_E2E_MARK: mark, SERVER_COVERAGE_CACHE_DIR: cache })
  expect(hosted.code, hosted.output).toBe(0)
  expect(hosted.output).toContain('Tests  17 passed (17)')
  expect(hosted.output).toMatch(/ready at http:\/\/127\.0\.0\.1:\d+ in \d+ ms \(4 of 4 workers listening, \d+ processes registered\)/)
  const hostedHits = lineHits(readCoverage(dir), dir)
  expect(coveredLines(hostedHits)).toEqual(reference)
  // And the counts: a line run per request has the same hits; a line run when the module loads
  // ran once in-process and once in each of the 4 workers (never in the host's primary).
  for (const [file, lines] of Object.entries(referenceHits)) {
    for (const [line, hits] of Object.entries(lines)) {
      const hosted = hostedHits[file]?.[line]
      if (hosted !== hits) expect(hosted, `${file}:${line} ran ${hits} times in-process`).toBe(4 * hits)
    }
  }
  expect(hostedHits['routes/users.js']?.[String(lineOf(dir, 'routes/users.js', 'const users = searchUsers'))]).toBe(2)
  expect(hostedHits['routes/users.js']?.[String(lineOf(dir, 'routes/users.js', "const router = express.Router()"))]).toBe(4)
  expect(processesMarked(mark)).toEqual([])
  const hostedData = readCoverage(dir)
  // That run stored a plan for each of the 6 files; the runs below convert from them.
  expect(readdirSync(join(cache, 'plans')).filter((name) => name.endsWith('.plan')).length).toBeGreaterThanOrEqual(6)

  // The same app counted on load (`counting: 'load'`, V8's counters off): the same report, every
  // statement, branch and function count of every file.
  // Twice: the first run instruments (and caches) the files, every process of the second reads
  // them from the cache (its entries are not written again).
  const entries = (): Record<string, [number, number]> =>
    Object.fromEntries(readdirSync(cache).filter((name) => name.endsWith('.cache')).map((name) => [name, [statSync(join(cache, name)).ino, statSync(join(cache, name)).mtimeMs]]))
  let made: Record<string, [number, number]> | undefined
  for (const run of ['first', 'from the cache']) {
    const onLoad = await runVitest(dir, ['run', '--coverage'], { MODE: 'hosted', COUNTING: 'load', SC_E2E_MARK: mark, SERVER_COVERAGE_CACHE_DIR: cache })
    expect(onLoad.code, onLoad.output).toBe(0)
    expect(onLoad.output).toContain('Tests  17 passed (17)')
    const onLoadData = readCoverage(dir)
    expect(Object.keys(onLoadData).sort()).toEqual(Object.keys(hostedData).sort())
    for (const [file, data] of Object.entries(hostedData)) {
      const { statementMap, s, branchMap, b, fnMap, f } = onLoadData[file] as FileCoverageData
      expect({ statementMap, s, branchMap, b, fnMap, f }, `${file} (${run})`).toEqual({ statementMap: data.statementMap, s: data.s, branchMap: data.branchMap, b: data.b, fnMap: data.fnMap, f: data.f })
    }
    if (made) expect(entries()).toEqual(made)
    made = entries()
    expect(Object.keys(made)).toHaveLength(6)
  }
  expect(processesMarked(mark)).toEqual([])
})

test('through the CLI (any runner; its conversion parses with oxc-parser), the hosted site covers the lines of the in-process run, with Vitest\'s own statement and branch maps', async () => {
  const dir = track(makeProject('app-express-site'))
  const inProcess = await runVitest(dir, ['run', '--coverage'])
  expect(inProcess.code, inProcess.output).toBe(0)
  const reference = readCoverage(dir)
  // The same test file, given the URL the CLI passes (SERVER_URL) instead of the plugin's.
  writeFileSync(join(dir, 'cli.config.mjs'), "import { defineConfig } from 'vitest/config'\nexport default defineConfig({ test: { provide: { serverUrl: process.env.SERVER_URL } } })\n")
  const mark = newMark()
  const run = await runCli(dir, ['run', '--app', './app.js', '--workers', '4', '--include', 'app.js,routes/**,lib/**', '--reporter', 'json', '--', 'npx', 'vitest', 'run', '--config', 'cli.config.mjs'], { CI: '1', SC_E2E_MARK: mark })
  expect(run.code, run.output).toBe(0)
  expect(run.output).toContain('Tests  17 passed (17)')
  expect(run.output).toMatch(/collected coverage from 5 processes, 6 files/)
  const viaCli = readCoverage(dir)
  expect(coveredLines(lineHits(viaCli, dir))).toEqual(coveredLines(lineHits(reference, dir)))
  for (const [file, data] of Object.entries(reference)) {
    const { statementMap, branchMap, fnMap } = viaCli[file] as FileCoverageData
    expect({ statementMap, branchMap, fnMap }, file).toEqual({ statementMap: data.statementMap, branchMap: data.branchMap, fnMap: data.fnMap })
  }
  expect(processesMarked(mark)).toEqual([])
})
