import type { FileCoverageData } from 'istanbul-lib-coverage'
import { mkdtempSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, test } from 'vitest'
import { startServerCoverage } from '../../dist/index.js'
import { NODE, fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, runCli, runVitest, statementHits, tempDirs } from './harness.js'
import { coverageReport, coverageReportByProcess, expectSameAsCoverageReport, missingPythonTools } from './python-support.js'

// Django, app code unchanged: under gunicorn with 4 workers through Vitest, and under
// `manage.py runserver`, whose autoreloader serves from a child process (`python manage.py …`
// again, with RUN_MAIN=true) that it replaces when a file changes: what every child ran counts.

const missing = missingPythonTools(['gunicorn', 'django'])
const track = tempDirs()

const VIEW_LINES = ["return JsonResponse({'pid': os.getpid()", "count = int(request.GET.get('n', '0'))", "return JsonResponse({'items': 'many'})", "return JsonResponse({'items': list(range(count))})", "return HttpResponse('ok')"]
const IMPORT_LINES = ["BOOT_MESSAGE = 'import-time line'", 'class Health(View):']

interface Pid {
  pid: number
  autoreloaded: boolean
}

describe.skipIf(missing.length > 0)('Django', () => {
  test('under gunicorn with 4 workers through Vitest: every worker measured; totals equal `coverage report`', async () => {
    const dir = track(makeProject('django-site'))
    const kept = track(mkdtempSync(join(tmpdir(), 'sc-kept-')))
    const mark = newMark()
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_MARK: mark, SERVER_COVERAGE_PY_KEEP_DATA: kept })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain('looks like a Python server')
    const pids = (run.output.match(/WORKER_PIDS=([\d,]+)/)?.[1] ?? '').split(',').map(Number)
    expect(pids).toHaveLength(4)
    const coverage = readCoverage(dir)
    const views = fileCoverage(coverage, dir, 'shop/views.py')
    for (const line of [...VIEW_LINES, ...IMPORT_LINES]) expect(statementHits(views, lineOf(dir, 'shop/views.py', line)), line).toBe(1)
    expect(statementHits(views, lineOf(dir, 'shop/views.py', "'never called by the tests'"))).toBe(0)
    // The settings and URLs each worker loads; manage.py is measured, and gunicorn never runs it.
    expect(statementHits(fileCoverage(coverage, dir, 'shop/settings.py'), lineOf(dir, 'shop/settings.py', "ROOT_URLCONF = 'shop.urls'"))).toBe(1)
    expect(Object.values(fileCoverage(coverage, dir, 'manage.py').s).every((hits) => hits === 0)).toBe(true)
    // `pid` is the one decorated view: 2 decorator arcs, run at import.
    expectSameAsCoverageReport(expect, coverage, coverageReport(kept, dir), { [join(dir, 'shop/views.py')]: { total: 2, covered: 2 } })
    const route = lineOf(dir, 'shop/views.py', "return JsonResponse({'pid': os.getpid()")
    const byProcess = coverageReportByProcess(kept, dir)
    for (const pid of pids) expect({ pid, route: byProcess.get(pid)?.[join(dir, 'shop/views.py')]?.executed_lines.includes(route) }).toEqual({ pid, route: true })
    expect(processesMarked(mark)).toEqual([])
  })

  test('`manage.py runserver` whose settings module cannot be imported: the start fails at once with Django\'s error', async () => {
    const dir = track(makeProject('django-site'))
    const command = '/usr/bin/python3 manage.py runserver 127.0.0.1:{port}'
    const run = await runCli(dir, ['run', '--command', command, '--env', 'DJANGO_SETTINGS_MODULE=shop.missing', '--url', '/health', '--timeout', '60000', '--', NODE, '-e', '0'])
    expect(run.code).not.toBe(0)
    expect(run.output).toContain(`server-coverage: the server "${command}" exited with code 1 before it was ready`)
    expect(run.output).toContain("ModuleNotFoundError: No module named 'shop.missing'")
  })

  test('`manage.py runserver`: the autoreloader\'s child serves and is measured, and so is the child that replaces it after a file change', async () => {
    const dir = track(makeProject('django-site'))
    const log: string[] = []
    const session = await startServerCoverage({ command: '/usr/bin/python3 manage.py runserver 127.0.0.1:{port}', url: '/health', cwd: dir }, { root: dir, log: (line) => log.push(line) })
    let stopped = false
    try {
      const base = session.urls.server!
      const get = async <T>(path: string): Promise<T> => (await (await fetch(base + path, { headers: { connection: 'close' } })).json()) as T
      const first = await get<Pid>('/pid')
      expect(first.autoreloaded).toBe(true)
      await get('/items?n=2')
      // A file the autoreloader watches changes (its content stays, so no line moves): the child
      // exits with code 3 and the parent starts a new one.
      const later = new Date(Date.now() + 2000)
      utimesSync(join(dir, 'shop', 'views.py'), later, later)
      let second: Pid | undefined
      for (let attempt = 0; attempt < 200 && !second; attempt++) {
        const answer = await get<Pid>('/pid').catch(() => undefined) // refused while the new child starts
        if (answer && answer.pid !== first.pid) second = answer
        else await sleep(100)
      }
      expect(second?.autoreloaded, `a new child served:\n${log.join('\n')}`).toBe(true)
      await get('/items?n=5') // only the second child runs this branch
      const result = await session.stop({ collect: true })
      stopped = true
      const views = result?.data[join(dir, 'shop', 'views.py')] as FileCoverageData
      for (const line of [...VIEW_LINES.filter((line) => !line.includes('HttpResponse')), ...IMPORT_LINES]) expect(statementHits(views, lineOf(dir, 'shop/views.py', line)), line).toBe(1)
      const manage = result?.data[join(dir, 'manage.py')] as FileCoverageData
      expect(statementHits(manage, lineOf(dir, 'manage.py', 'execute_from_command_line(sys.argv)'))).toBe(1)
      // The autoreloader and both children.
      expect(result?.processes).toBeGreaterThanOrEqual(3)
    } finally {
      if (!stopped) await session.stop()
    }
  })
})
