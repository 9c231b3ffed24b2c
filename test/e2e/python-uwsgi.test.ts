import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, runVitest, statementHits, tempDirs } from './harness.js'
import { PYTHON, coverageReport, expectSameAsCoverageReport, istanbulNumbers, missingPythonTools } from './python-support.js'

const missing = missingPythonTools(['uwsgi'])
const track = tempDirs()

/** A folder that receives a copy of every data file the runtime reads (SERVER_COVERAGE_PY_KEEP_DATA, a test-only knob). */
function keepDir(): string {
  return track(mkdtempSync(join(tmpdir(), 'sc-kept-')))
}

function hitsAt(file: FileCoverageData, dir: string, marker: string): number | undefined {
  return statementHits(file, lineOf(dir, 'run.py', marker))
}

/** Every line the tests reach, on every worker and both core threads. */
const ROUTE_LINES = ["return 'index'", 'worker = uwsgi.worker_id()', "seen = 'worker one'", "seen = 'worker two'", "seen = 'worker three'", "seen = 'worker four'", "thread = 'core zero'", "thread = 'core one'", 'return jsonify(']
const IMPORT_LINES = ['app = Flask(__name__)', "BOOT_MESSAGE = 'import-time line'", 'import uwsgi']

/** run.py's three routes are decorated `def`s: 2 decorator arcs each, all run at import. */
const RUN_PY_DECORATORS = { total: 6, covered: 6 }

function expectFullRun(dir: string, kept: string): FileCoverageData {
  const coverage = readCoverage(dir)
  const run = fileCoverage(coverage, dir, 'run.py')
  for (const line of [...ROUTE_LINES, ...IMPORT_LINES]) expect(hitsAt(run, dir, line), line).toBe(1)
  expect(hitsAt(run, dir, "'never called by the tests'")).toBe(0)
  expectSameAsCoverageReport(expect, coverage, coverageReport(kept, dir), { [join(dir, 'run.py')]: RUN_PY_DECORATORS })
  expect(Object.values(run.fnMap).map((fn) => fn.name)).toEqual(['index', 'hello', 'never'])
  expect(Object.values(run.f)).toEqual([1, 1, 0])
  return run
}

describe.skipIf(missing.length > 0)('uWSGI (4 workers x 2 threads) under Coverage.py, merged into Vitest', () => {
  test('every worker and both threads are measured, with the import-time lines; numbers equal `coverage report`; nothing is left running', async () => {
    const dir = track(makeProject('uwsgi-flask'))
    const kept = keepDir()
    const mark = newMark()
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_MARK: mark, SERVER_COVERAGE_PY_KEEP_DATA: kept })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain('looks like a Python server')
    expect(run.output).toMatch(/BEFORE_PAIRS=1\/0,1\/1,2\/0,2\/1,3\/0,3\/1,4\/0,4\/1/)
    expect(run.output).toMatch(/collected coverage from 4 processes, 1 file/)
    const file = expectFullRun(dir, kept)
    // Real ranges from the ast: the jsonify call ends where its line ends.
    const line = lineOf(dir, 'run.py', 'return jsonify(')
    const range = Object.values(file.statementMap).find((r) => r.start.line === line)
    expect(range?.start.column).toBe(4)
    expect(range?.end.line).toBe(line)
    // A clean stop (SIGTERM with die-on-term), not SIGKILL after the grace period.
    expect(run.output).not.toContain('killed with SIGKILL')
    expect(processesMarked(mark)).toEqual([])
  })

  test('a graceful reload mid-run (SIGHUP to the master) loses nothing', async () => {
    const dir = track(makeProject('uwsgi-flask'))
    const kept = keepDir()
    const mark = newMark()
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_MARK: mark, RELOAD: '1', SERVER_COVERAGE_PY_KEEP_DATA: kept })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/AFTER_PAIRS=1\/0,1\/1,2\/0,2\/1,3\/0,3\/1,4\/0,4\/1/)
    // 4 workers before the reload and 4 after, each with its own data files.
    expect(run.output).toMatch(/collected coverage from 8 processes/)
    expectFullRun(dir, kept)
    expect(run.output).not.toContain('killed with SIGKILL')
    expect(processesMarked(mark)).toEqual([])
  })

  test('a line threshold decided by the Python file fails when a route is left unrun, and passes otherwise', async () => {
    const [failing, passing] = await Promise.all([
      runVitest(track(makeProject('uwsgi-flask')), ['run', '--coverage'], { THRESHOLD_LINES: '97', ONLY_HELLO: '1' }),
      runVitest(track(makeProject('uwsgi-flask')), ['run', '--coverage'], { THRESHOLD_LINES: '90' }),
    ])
    expect(failing.code, failing.output).toBe(1)
    expect(failing.output).toMatch(/Coverage for lines \([\d.]+%\) does not meet global threshold \(97%\)/)
    expect(passing.code, passing.output).toBe(0)
  })
})

/**
 * app.py's decorated `def`s and stacked decorator lines: wrapper, size, items (its two decorators
 * and its def), page, feed, wait, never — 9 lines, 2 arcs each, all run at import.
 */
const SHAPES_DECORATOR_ARCS = 18

describe.skipIf(missing.length > 0)('Python totals equal `coverage report` (multi-line conditions, comprehensions, generators, decorators, async views, Jinja templates)', () => {
  test('uWSGI 4x2: statements, lines and branches file by file as `coverage report` on the same data files, and the lines of the same requests run in-process under `coverage run`', async () => {
    const dir = track(makeProject('python-flask-shapes'))
    const kept = keepDir()
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_COVERAGE_PY_KEEP_DATA: kept })
    expect(run.code, run.output).toBe(0)
    expect(run.output).not.toMatch(/could not convert|as Python/)
    const coverage = readCoverage(dir)
    const app = join(dir, 'app.py')
    expectSameAsCoverageReport(expect, coverage, coverageReport(kept, dir), { [app]: { total: SHAPES_DECORATOR_ARCS, covered: SHAPES_DECORATOR_ARCS } })
    expect(Object.keys(coverage).filter((path) => !path.endsWith('.py'))).toEqual([]) // the templates: skipped silently

    // The reference: the same requests in-process (Flask's test client) under `coverage run`.
    const reference = join(mkdtempSync(join(tmpdir(), 'sc-reference-')), '.coverage')
    track(join(reference, '..'))
    execFileSync(PYTHON, ['-m', 'coverage', 'run', '--branch', `--data-file=${reference}`, `--source=${dir}`, 'reference/drive.py'], { cwd: dir, env: { ...process.env, PYTHONPATH: '' } })
    const json = JSON.parse(execFileSync(PYTHON, ['-m', 'coverage', 'json', `--data-file=${reference}`, '-o', '-'], { cwd: dir, encoding: 'utf8' })) as { files: Record<string, { missing_lines: number[] }> }
    const ours = istanbulNumbers(coverage[app] as FileCoverageData)
    expect(ours.missedLines).toEqual(json.files['app.py']!.missing_lines)
    expect(ours.missedLines).toEqual([lineOf(dir, 'app.py', 'try:'), lineOf(dir, 'app.py', "return 'never called"), lineOf(dir, 'app.py', 'except RuntimeError'), lineOf(dir, 'app.py', "return 'nor this'")])
    expect(ours.coveredBranches).toBe(ours.branches) // every branch of the requests ran, none counted 3-way
    expect((coverage as CoverageMapData)[join(dir, 'reference', 'drive.py')]).toBeUndefined()
  })
})
