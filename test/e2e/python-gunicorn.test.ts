import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, runCli, runVitest, statementHits, tempDirs } from './harness.js'
import { coverageReport, expectSameAsCoverageReport, missingPythonTools } from './python-support.js'

const missing = missingPythonTools(['gunicorn', 'uwsgi'])
const track = tempDirs()

function project(fixture: string): string {
  return track(makeProject(fixture))
}

describe.skipIf(missing.length > 0)('gunicorn and plain Python under Coverage.py', () => {
  test('gunicorn with 4 workers: every worker measured, import-time lines included, numbers equal `coverage report`', async () => {
    const dir = project('gunicorn-flask')
    const kept = track(mkdtempSync(join(tmpdir(), 'sc-kept-')))
    const mark = newMark()
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_MARK: mark, SERVER_COVERAGE_PY_KEEP_DATA: kept })
    expect(run.code, run.output).toBe(0)
    expect(run.output.match(/WORKER_PIDS=([\d,]+)/)?.[1]?.split(',')).toHaveLength(4)
    const coverage = readCoverage(dir)
    const app = fileCoverage(coverage, dir, 'app.py')
    expect(statementHits(app, lineOf(dir, 'app.py', 'return jsonify(pid'))).toBe(1)
    expect(statementHits(app, lineOf(dir, 'app.py', 'app = Flask(__name__)'))).toBe(1)
    expect(statementHits(app, lineOf(dir, 'app.py', "'never called by the tests'"))).toBe(0)
    // Two decorated routes: 2 decorator arcs each, run at import.
    expectSameAsCoverageReport(expect, coverage, coverageReport(kept, dir), { [join(dir, 'app.py')]: { total: 4, covered: 4 } })
    expect(processesMarked(mark)).toEqual([])
  })

  test('plain `python3 server.py` (standard library server), stopped by SIGTERM', async () => {
    const dir = project('python-plain')
    const run = await runVitest(dir, ['run', '--coverage'])
    expect(run.code, run.output).toBe(0)
    const server = fileCoverage(readCoverage(dir), dir, 'server.py')
    expect(statementHits(server, lineOf(dir, 'server.py', "return [b'hello']"))).toBe(1)
    expect(statementHits(server, lineOf(dir, 'server.py', 'BOOT_MESSAGE ='))).toBe(1)
  })
})

describe.skipIf(missing.length > 0)('clear errors for Python servers', () => {
  test('the recipe\'s ini (no `plugins` line) on a uWSGI that has no Python plugin at all: refused up front, with the fix', async () => {
    // (The CLI, with a free port: the recipe's ini names 5001, which python-recipe.test.ts uses.)
    const run = await runCli(project('python-recipe'), ['run', '--command', './without-python-plugin/uwsgi --ini run.ini', '--url', '/hello', '--', process.execPath, '-e', '0'])
    expect(run.code).not.toBe(0)
    expect(run.output).toMatch(/server-coverage: the `command` option "\.\/without-python-plugin\/uwsgi --ini run\.ini" starts a uWSGI without its python3 plugin/)
    expect(run.output).toContain('could not load python3: /usr/lib/uwsgi/plugins/python3_plugin.so: cannot open shared object file')
    expect(run.output).toContain('apt-get install uwsgi-plugin-python3')
  })

  test('a Python that cannot import coverage', async () => {
    // A `coverage` package that fails to import shadows the real one, like a Python without it.
    const run = await runVitest(project('python-plain'), ['run', '--coverage'], { PY_ENV: JSON.stringify({ PYTHONPATH: 'no-coverage' }) })
    expect(run.code, run.output).not.toBe(0)
    expect(run.output).toMatch(/runs Python 3[\d.]+ \(\/usr\/bin\/python3, prefix \/usr\), which cannot import Coverage.py \(ImportError: No module named coverage/)
    expect(run.output).toContain('apt-get install python3-coverage')
  })

  test('the `python` option names an interpreter that cannot read the data', async () => {
    const run = await runVitest(project('python-plain'), ['run', '--coverage'], { PY_PYTHON: './python-without-coverage' })
    expect(run.code, run.output).not.toBe(0)
    expect(run.output).toMatch(/could not read the Python coverage data with \.\/python-without-coverage \(the `python` option\): .*No module named coverage/)
    expect(run.output).toContain('set the `python` option to the Python that runs the server')
  })

  test('the hook never loaded (Python started with -S)', async () => {
    const run = await runVitest(project('python-plain'), ['run', '--coverage'], { PY_COMMAND: '/usr/bin/python3 -S server.py' })
    expect(run.code).not.toBe(0)
    expect(run.output).toMatch(/the coverage hook never loaded in "\/usr\/bin\/python3 -S server.py"/)
  })

  test('the app fails to import: the launch fails with its traceback', async () => {
    const run = await runVitest(project('uwsgi-flask'), ['run', '--coverage'], { PY_COMMAND: 'uwsgi --ini run.ini --wsgi-file missing_module.py' })
    expect(run.code).not.toBe(0)
    expect(run.output).toMatch(/exited with code \d+ before it was ready/)
  })
})
