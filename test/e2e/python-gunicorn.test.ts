import { describe, expect, test } from 'vitest'
import { fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, runVitest, statementHits, tempDirs } from './harness.js'
import { coveragePyTotals, missingPythonTools } from './python-support.js'

const missing = missingPythonTools(['gunicorn', 'uwsgi'])
const track = tempDirs()

function project(fixture: string): string {
  const dir = makeProject(fixture)
  track(dir)
  return dir
}

describe.skipIf(missing.length > 0)('gunicorn and plain Python under Coverage.py', () => {
  test('gunicorn with 4 workers: every worker measured, import-time lines included', async () => {
    const dir = project('gunicorn-flask')
    const mark = newMark()
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_MARK: mark })
    expect(run.code, run.output).toBe(0)
    expect(run.output.match(/WORKER_PIDS=([\d,]+)/)?.[1]?.split(',')).toHaveLength(4)
    const app = fileCoverage(readCoverage(dir), dir, 'app.py')
    expect(statementHits(app, lineOf(dir, 'app.py', 'return jsonify(pid'))).toBe(1)
    expect(statementHits(app, lineOf(dir, 'app.py', 'app = Flask(__name__)'))).toBe(1)
    expect(statementHits(app, lineOf(dir, 'app.py', "'never called by the tests'"))).toBe(0)
    const totals = coveragePyTotals(run.output)
    expect(Object.values(app.s).filter((hits) => hits > 0)).toHaveLength(totals.covered)
    expect(Object.keys(app.s)).toHaveLength(totals.statements)
    expect(processesMarked(mark)).toEqual([])
  })

  test('plain `python3 server.py` (standard library server), stopped by SIGTERM', async () => {
    const dir = project('python-plain')
    const run = await runVitest(dir, ['run', '--coverage'])
    expect(run.code, run.output).toBe(0)
    const server = fileCoverage(readCoverage(dir), dir, 'server.py')
    expect(statementHits(server, lineOf(dir, 'server.py', "return [b'hello']"))).toBe(1)
    expect(statementHits(server, lineOf(dir, 'server.py', "BOOT_MESSAGE ="))).toBe(1)
  })
})

describe.skipIf(missing.length > 0)('clear errors for Python servers', () => {
  test('uWSGI without the python3/http plugins', async () => {
    const run = await runVitest(project('uwsgi-flask'), ['run', '--coverage'], { PY_COMMAND: 'uwsgi --ini plain.ini' })
    expect(run.code).not.toBe(0)
    expect(run.output).toMatch(/the `command` option "uwsgi --ini plain.ini" starts a uWSGI without its Python plugin/)
    expect(run.output).toContain('plugins = http,python3')
  })

  test('a Python that cannot import coverage', async () => {
    // A `coverage` package that fails to import shadows the real one, like a Python without it.
    const run = await runVitest(project('python-plain'), ['run', '--coverage'], { PY_ENV: JSON.stringify({ PYTHONPATH: 'no-coverage' }) })
    expect(run.code, run.output).not.toBe(0)
    expect(run.output).toMatch(/runs Python 3[\d.]+ \(\/usr\/bin\/python3, prefix \/usr\), which cannot import Coverage.py \(ImportError: No module named coverage/)
    expect(run.output).toContain('apt-get install python3-coverage')
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
