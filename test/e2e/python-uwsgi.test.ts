import type { FileCoverageData } from 'istanbul-lib-coverage'
import { describe, expect, test } from 'vitest'
import { fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, runVitest, statementHits, tempDirs } from './harness.js'
import { coveragePyTotals, missingPythonTools } from './python-support.js'

const missing = missingPythonTools(['uwsgi'])
const track = tempDirs()

function project(): string {
  const dir = makeProject('uwsgi-flask')
  track(dir)
  return dir
}

function hitsAt(file: FileCoverageData, dir: string, marker: string): number | undefined {
  return statementHits(file, lineOf(dir, 'run.py', marker))
}

/** Every line the tests reach, on every worker and both core threads. */
const ROUTE_LINES = ["return 'index'", 'worker = uwsgi.worker_id()', "seen = 'worker one'", "seen = 'worker two'", "seen = 'worker three'", "seen = 'worker four'", "thread = 'core zero'", "thread = 'core one'", 'return jsonify(']
const IMPORT_LINES = ['app = Flask(__name__)', "BOOT_MESSAGE = 'import-time line'", 'import uwsgi']

function expectFullRun(dir: string, output: string): FileCoverageData {
  const run = fileCoverage(readCoverage(dir), dir, 'run.py')
  for (const line of [...ROUTE_LINES, ...IMPORT_LINES]) expect(hitsAt(run, dir, line), line).toBe(1)
  expect(hitsAt(run, dir, "'never called by the tests'")).toBe(0)
  // The istanbul numbers are Coverage.py's own (analysis.numbers, what `coverage report` prints),
  // minus the decorator pseudo-branches of Python 3.11.
  const totals = coveragePyTotals(output)
  expect(Object.keys(run.s)).toHaveLength(totals.statements)
  expect(Object.values(run.s).filter((hits) => hits > 0)).toHaveLength(totals.covered)
  expect(Object.values(run.b).flat()).toHaveLength(totals.branches - totals.decorator)
  expect(Object.values(run.b).flat().filter((hits) => hits > 0)).toHaveLength(totals.coveredBranches - totals.decoratorCovered)
  expect(totals.decorator).toBe(6) // three decorated routes, two arcs each
  expect(Object.values(run.fnMap).map((fn) => fn.name)).toEqual(['index', 'hello', 'never'])
  expect(Object.values(run.f)).toEqual([1, 1, 0])
  return run
}

describe.skipIf(missing.length > 0)('uWSGI (4 workers x 2 threads) under Coverage.py, merged into Vitest', () => {
  test('every worker and both threads are measured, with the import-time lines; nothing is left running', async () => {
    const dir = project()
    const mark = newMark()
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_MARK: mark })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain('looks like a Python server')
    expect(run.output).toMatch(/BEFORE_PAIRS=1\/0,1\/1,2\/0,2\/1,3\/0,3\/1,4\/0,4\/1/)
    expect(run.output).toMatch(/collected coverage from 4 processes, 1 file/)
    const file = expectFullRun(dir, run.output)
    // Real ranges from the ast: the multi-line-free jsonify call ends where its line ends.
    const line = lineOf(dir, 'run.py', 'return jsonify(')
    const range = Object.values(file.statementMap).find((r) => r.start.line === line)
    expect(range?.start.column).toBe(4)
    expect(range?.end.line).toBe(line)
    // A clean stop (SIGTERM with die-on-term), not SIGKILL after the grace period.
    expect(run.output).not.toContain('killed with SIGKILL')
    expect(processesMarked(mark)).toEqual([])
  })

  test('a graceful reload mid-run (SIGHUP to the master) loses nothing', async () => {
    const dir = project()
    const mark = newMark()
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_MARK: mark, RELOAD: '1' })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/AFTER_PAIRS=1\/0,1\/1,2\/0,2\/1,3\/0,3\/1,4\/0,4\/1/)
    // 4 workers before the reload and 4 after, each with its own data file.
    expect(run.output).toMatch(/collected coverage from 8 processes/)
    expectFullRun(dir, run.output)
    // A clean stop (SIGTERM with die-on-term), not SIGKILL after the grace period.
    expect(run.output).not.toContain('killed with SIGKILL')
    expect(processesMarked(mark)).toEqual([])
  })

  test('a line threshold decided by the Python file fails when a route is left unrun, and passes otherwise', async () => {
    const [failing, passing] = await Promise.all([
      runVitest(project(), ['run', '--coverage'], { THRESHOLD_LINES: '97', ONLY_HELLO: '1' }),
      runVitest(project(), ['run', '--coverage'], { THRESHOLD_LINES: '90' }),
    ])
    expect(failing.code, failing.output).toBe(1)
    expect(failing.output).toMatch(/Coverage for lines \([\d.]+%\) does not meet global threshold \(97%\)/)
    expect(passing.code, passing.output).toBe(0)
  })
})
