import type { FileCoverageData } from 'istanbul-lib-coverage'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { NODE, fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, runCli, runVitest, statementHits, tempDirs } from './harness.js'
import { coverageReport, coverageReportByProcess, expectSameAsCoverageReport, missingPythonTools } from './python-support.js'

// FastAPI under the ASGI servers people run today, 4 workers each: uvicorn (`--workers` spawns
// fresh interpreters), its `uvicorn` script, hypercorn (forked `multiprocessing` workers that leave
// through os._exit) and gunicorn's UvicornWorker. Async routes, dependencies and background tasks
// are measured in every worker, and the totals equal `coverage report`. Vitest writes its report
// before its teardown stops the server; the CLI reads after the stop, so its report also holds
// what each worker ran after the stop signal (the shutdown handler) when the server runs it.

const missing = missingPythonTools(['gunicorn', 'asgi'])
const track = tempDirs()

/** Lines the fixture's requests reach, in every server. */
const REQUEST_LINES = [
  'return os.getpid()  # async dependency',
  "return {'greeting': 'hello'}  # sync dependency",
  'DONE.append(pid)  # sync background task',
  'DONE.append(word)  # async background task',
  "return {'pid': pid}",
  "return {'text': config['greeting'] + ', world'",
  "return {'text': '%s, %s'",
]
const IMPORT_LINES = ['app = FastAPI()', "BOOT_MESSAGE = 'import-time line'"]
const SHUTDOWN_LINE = "DONE.append('shutdown handler ran')"
/** pid, greet, once, never, shutdown: decorated `def`s, 2 decorator arcs each, all run at import. */
const APP_DECORATORS = { total: 10, covered: 10 }

interface Served {
  dir: string
  app: FileCoverageData
  pids: number[]
  output: string
  kept: string
}

/**
 * Serves the fixture with `command` under Vitest (its tests) or the CLI (`node drive.mjs`, the same
 * requests), stopped with `signal`; checks what every server must give: 4 workers served, every
 * request line, the import-time lines, nothing else, totals equal to `coverage report` on the same
 * data files, nothing left running.
 */
async function serve(runner: 'vitest' | 'cli', command: string, signal: 'SIGTERM' | 'SIGINT'): Promise<Served> {
  const dir = track(makeProject('fastapi-asgi'))
  const kept = track(mkdtempSync(join(tmpdir(), 'sc-kept-')))
  const mark = newMark()
  const env = { SERVER_COVERAGE_PY_KEEP_DATA: kept }
  const run =
    runner === 'vitest'
      ? await runVitest(dir, ['run', '--coverage'], { ...env, PY_COMMAND: command, PY_SIGNAL: signal, SERVER_MARK: mark })
      : await runCli(dir, ['run', '--command', command, '--url', '/pid', '--timeout', '20000', '--graceful-shutdown-signal', signal, '--graceful-shutdown-timeout', '10000', '--env', `SC_E2E_MARK=${mark}`, '--reporter', 'json', '--', NODE, 'drive.mjs'], env)
  expect(run.code, run.output).toBe(0)
  expect(run.output).toContain('looks like a Python server')
  expect(run.output).not.toContain('killed with SIGKILL')
  const pids = (run.output.match(/WORKER_PIDS=([\d,]+)/)?.[1] ?? '').split(',').map(Number)
  expect(pids).toHaveLength(4)
  const coverage = readCoverage(dir)
  const app = fileCoverage(coverage, dir, 'app.py')
  for (const line of [...REQUEST_LINES, ...IMPORT_LINES]) expect(statementHits(app, lineOf(dir, 'app.py', line)), line).toBe(1)
  expect(statementHits(app, lineOf(dir, 'app.py', "'never called by the tests'"))).toBe(0)
  expect(Object.values(app.fnMap).map((fn) => fn.name)).toEqual(['current_pid', 'settings', 'remember', 'remember_later', 'pid', 'greet', 'once', 'never', 'shutdown'])
  expectSameAsCoverageReport(expect, coverage, coverageReport(kept, dir), { [join(dir, 'app.py')]: APP_DECORATORS })
  expect(processesMarked(mark)).toEqual([])
  return { dir, app, pids, output: run.output, kept }
}

/**
 * Every worker ran the async route and its dependency (it answered with its pid) and its own data
 * says so; `shutdown`: its shutdown handler ran after the stop signal and was saved too.
 */
function expectEveryWorker(served: Served, shutdown: boolean): void {
  const [route, dependency, stop] = ["return {'pid': pid}", 'return os.getpid()  # async dependency', SHUTDOWN_LINE].map((line) => lineOf(served.dir, 'app.py', line))
  const byProcess = coverageReportByProcess(served.kept, served.dir)
  for (const pid of served.pids) {
    const lines = byProcess.get(pid)?.[join(served.dir, 'app.py')]?.executed_lines ?? []
    expect({ pid, route: lines.includes(route!), dependency: lines.includes(dependency!), shutdown: lines.includes(stop!) }).toEqual({ pid, route: true, dependency: true, shutdown })
  }
  expect(statementHits(served.app, stop!)).toBe(shutdown ? 1 : 0)
}

describe.skipIf(missing.length > 0)('FastAPI under uvicorn, hypercorn and gunicorn + UvicornWorker (4 workers each)', () => {
  test('`python3 -m uvicorn --workers 4` (spawned workers) through Vitest: every worker measured; totals equal `coverage report`', async () => {
    // Vitest's report is written before its teardown stops the server: no shutdown handler in it.
    expectEveryWorker(await serve('vitest', '/usr/bin/python3 -m uvicorn app:app --workers 4 --port {port}', 'SIGTERM'), false)
  })

  test('uvicorn through the CLI, SIGTERM: each worker\'s shutdown handler, run after the signal, is measured too', async () => {
    expectEveryWorker(await serve('cli', '/usr/bin/python3 -m uvicorn app:app --workers 4 --port {port}', 'SIGTERM'), true)
  })

  test('the `uvicorn` script, SIGINT (Ctrl+C): the same', async () => {
    expectEveryWorker(await serve('cli', './bin/uvicorn app:app --workers 4 --port {port}', 'SIGINT'), true)
  })

  test('gunicorn -k uvicorn.workers.UvicornWorker -w 4, SIGTERM: the same', async () => {
    expectEveryWorker(await serve('cli', 'gunicorn -k uvicorn.workers.UvicornWorker -w 4 --bind 127.0.0.1:{port} app:app', 'SIGTERM'), true)
  })

  test('hypercorn --workers 4 (forked workers that leave through os._exit): SIGINT runs each shutdown handler, measured; SIGTERM kills the workers, everything they ran is kept', async () => {
    // hypercorn's workers ignore SIGINT and shut down gracefully when their parent tells them; the
    // group's SIGTERM kills them outright (they inherit no handler of hypercorn's): no shutdown
    // handler runs, with or without coverage, and what they ran is saved on the way.
    expectEveryWorker(await serve('cli', 'hypercorn app:app --workers 4 --bind 127.0.0.1:{port}', 'SIGINT'), true)
    expectEveryWorker(await serve('cli', 'hypercorn app:app --workers 4 --bind 127.0.0.1:{port}', 'SIGTERM'), false)
  })
})

describe.skipIf(missing.length > 0)('clear errors and notes for ASGI servers', () => {
  test('the app module cannot be imported, with 4 uvicorn workers: the start fails at once with uvicorn\'s error (no wait for the timeout)', async () => {
    const dir = track(makeProject('fastapi-asgi'))
    const run = await runCli(dir, ['run', '--command', '/usr/bin/python3 -m uvicorn missing_module:app --workers 4 --port {port}', '--url', '/pid', '--timeout', '60000', '--', NODE, '-e', '0'])
    expect(run.code).not.toBe(0)
    expect(run.output).toContain('server-coverage: the server "/usr/bin/python3 -m uvicorn missing_module:app --workers 4 --port {port}" exited with code 0 before it was ready')
    expect(run.output).toContain('Error loading ASGI app. Could not import module "missing_module"')
    expect(run.output).toMatch(/a uvicorn worker could not load the app \(exit code 1\); its supervisor \(pid \d+\) would wait for it forever, so it is stopped/)
    expect(run.output).not.toContain('was not ready within')
  })

  test('the app module cannot be imported by hypercorn\'s or gunicorn\'s 4 workers: the start fails at once, with the server\'s own error', async () => {
    const dir = track(makeProject('fastapi-asgi'))
    const cases = [
      { command: 'hypercorn missing_module:app --workers 4 --bind 127.0.0.1:{port}', says: "ModuleNotFoundError: No module named 'missing_module'" },
      // (Its tail ends with the arbiter's reason; the workers' ModuleNotFoundError is above it.)
      { command: 'gunicorn -k uvicorn.workers.UvicornWorker -w 4 --bind 127.0.0.1:{port} missing_module:app', says: 'Worker failed to boot.' },
    ]
    for (const { command, says } of cases) {
      const run = await runCli(dir, ['run', '--command', command, '--url', '/pid', '--timeout', '60000', '--', NODE, '-e', '0'])
      expect(run.code, command).not.toBe(0)
      expect(run.output).toMatch(new RegExp(`server-coverage: the server "${command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" exited with code \\d+ before it was ready`))
      expect(run.output).toContain(says)
      expect(run.output).not.toContain('was not ready within')
    }
  })

  test('the server\'s Python cannot import coverage', async () => {
    const dir = track(makeProject('fastapi-asgi'))
    const run = await runVitest(dir, ['run', '--coverage'], { PY_ENV: JSON.stringify({ PYTHONPATH: 'no-coverage' }) })
    expect(run.code, run.output).not.toBe(0)
    expect(run.output).toMatch(/"\/usr\/bin\/python3 -m uvicorn app:app --workers 4 --port \{port\}" runs Python 3[\d.]+ \(\/usr\/bin\/python3, prefix \/usr\), which cannot import Coverage.py \(ImportError: No module named coverage/)
    expect(run.output).toContain('apt-get install python3-coverage')
  })

  test('uvicorn --reload: one note says what it does to coverage and what to do; what the reloaded child ran is measured', async () => {
    const dir = track(makeProject('fastapi-asgi'))
    const command = '/usr/bin/python3 -m uvicorn app:app --reload --port {port}'
    const run = await runCli(dir, ['run', '--command', command, '--url', '/pid', '--reporter', 'json', '--', NODE, '-e', 'fetch(process.env.SERVER_URL + "/greet/world").then((r) => process.exit(r.ok ? 0 : 1))'])
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain(`server-coverage: "${command}" runs uvicorn with --reload: the app runs in a child process that uvicorn replaces whenever a watched file changes.`)
    expect(run.output).toContain('For a test run, drop --reload (and give --workers N for several processes).')
    const app = fileCoverage(readCoverage(dir), dir, 'app.py')
    expect(statementHits(app, lineOf(dir, 'app.py', "return {'text': config['greeting'] + ', world'"))).toBe(1)
    expect(statementHits(app, lineOf(dir, 'app.py', SHUTDOWN_LINE))).toBe(1)
  })
})
