import type { ChildProcess } from 'node:child_process'
import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import type { CoverageReportFile } from './python-support.js'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import getPort from 'get-port'
import { afterEach, describe, expect, test } from 'vitest'
import { REPO, eventually, fileCoverage, lineOf, makeProject, statementHits, tempDirs } from './harness.js'
import { makeHost, netnsUnavailable } from './netns.js'
import { coverageReport, expectSameAsCoverageReport, missingPythonTools } from './python-support.js'
import { collectFrom, startServe } from './serve-harness.js'

// The Python network agent: uWSGI and gunicorn servers started by the test (not by
// server-coverage), from a copy of the app at another absolute path (like a container's /app),
// with only what a user puts in a Dockerfile — our folder on PYTHONPATH (or uWSGI's
// UWSGI_SHARED_IMPORT), SERVER_COVERAGE_CONNECT and SERVER_COVERAGE_TOKEN — report every process's
// coverage over real TCP to a `serve --agents` collector, which maps their paths by content.

const missing = missingPythonTools(['uwsgi', 'gunicorn'])
const track = tempDirs()
const TOKEN = randomBytes(24).toString('hex')
const PYTHON_DIR = join(REPO, 'python')
const groups: ChildProcess[] = []
const cleanups: (() => void)[] = []

afterEach(() => {
  for (const child of groups.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** Starts `serve` in `dir`; a test that fails before its `stop` leaves none running. */
async function serveIn(dir: string, args: string[]): ReturnType<typeof startServe> {
  const serve = await startServe(dir, args, { SERVER_COVERAGE_TOKEN: TOKEN })
  cleanups.push(() => void (serve.child.exitCode === null && serve.child.kill('SIGTERM'))) // its Ctrl+C: stops and cleans up
  return serve
}

/** A copy of a fixture's files at another absolute path, as a container image would hold them. */
function appCopy(fixture: string, files: string[]): string {
  const base = mkdtempSync(join(tmpdir(), 'sc-py-replica-'))
  cleanups.push(() => rmSync(base, { recursive: true, force: true }))
  const app = join(base, 'app')
  mkdirSync(app)
  for (const file of files) cpSync(join(REPO, 'test/fixtures/projects', fixture, file), join(app, file))
  return app
}

/** What the Dockerfile says (see the README), plus a test-only folder receiving a copy of every data file sent. */
function agentEnv(server: 'uwsgi' | 'gunicorn', collector: string, kept: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const hook = server === 'uwsgi' ? { UWSGI_SHARED_IMPORT: join(PYTHON_DIR, 'uwsgi_hook.py') } : { PYTHONPATH: PYTHON_DIR }
  // The agents' own temporary folders, removed with the test (the servers are SIGKILLed at the end).
  const temp = track(mkdtempSync(join(tmpdir(), 'sc-agent-tmp-')))
  return { PATH: process.env.PATH, TMPDIR: temp, ...hook, SERVER_COVERAGE_CONNECT: collector, SERVER_COVERAGE_TOKEN: TOKEN, SERVER_COVERAGE_PY_KEEP_DATA: kept, ...extra }
}

/** Starts a server the way something else would: its own process group, not ours to measure. */
function startServer(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: 'ignore' })
  groups.push(child)
  return child
}

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers: { connection: 'close' } })
  const text = await response.text()
  return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : { text } }
}

/** Requests until `distinct(body)` took `count` values (every worker served), or fails. */
async function spread(url: string, distinct: (body: Record<string, unknown>) => string, count: number): Promise<void> {
  const seen = new Set<string>()
  const deadline = Date.now() + 30_000
  while (seen.size < count) {
    if (Date.now() > deadline) throw new Error(`only ${[...seen].join(', ')} answered ${url}`)
    const answers = await Promise.all(Array.from({ length: 16 }, () => get(url).catch(() => undefined)))
    for (const answer of answers) if (answer?.status === 200) seen.add(distinct(answer.body))
  }
}

/** `coverage report` on the data files the agents sent, its keys moved from the app copy to the checkout. */
function reportOfSent(kept: string, app: string, dir: string): Record<string, CoverageReportFile> {
  expect(readdirSync(kept).length).toBeGreaterThan(0)
  return Object.fromEntries(Object.entries(coverageReport(kept, app)).map(([path, file]) => [path.replace(app, dir), file]))
}

const unavailable = netnsUnavailable()
if (unavailable) console.warn(`skipping the Python network-namespace test: ${unavailable} (it needs root and iproute2; CI runs as root)`)

describe.skipIf(missing.length > 0)('the Python network agent: servers started by something else report over TCP', () => {
  test('uWSGI (4 workers x 2 threads) through UWSGI_SHARED_IMPORT: every worker reports, run.py\'s lines count 1, totals equal `coverage report`', async () => {
    const dir = track(makeProject('uwsgi-flask'))
    const app = appCopy('uwsgi-flask', ['run.py', 'run.ini'])
    // A module nothing imports, in both folders: measured as never run, and large enough (~300 KB of
    // istanbul JSON) that its payload goes in several 64 KB chunks.
    const big = Array.from({ length: 1500 }, (_, i) => `def function_${i}(value):\n    return value + ${i}\n`).join('\n')
    for (const folder of [dir, app]) writeFileSync(join(folder, 'big.py'), big)
    const kept = track(mkdtempSync(join(tmpdir(), 'sc-kept-')))
    const port = await getPort({ host: '127.0.0.1' })
    const serve = await serveIn(dir, ['--agents', `127.0.0.1:${port}`])
    const http = await getPort({ host: '127.0.0.1' })
    startServer('uwsgi', ['--ini', 'run.ini'], app, agentEnv('uwsgi', `127.0.0.1:${port}`, kept, { PORT: String(http) }))
    await spread(`http://127.0.0.1:${http}/hello`, (body) => `${body.worker}/${body.core}`, 8)
    expect(await eventually(() => /\(4 connected\)/.test(serve.output()), 20_000), serve.output()).toBe(true)
    await get(`http://127.0.0.1:${http}/`)
    const final = await collectFrom(dir, 'stop', 'final')
    expect((await serve.result).code).toBe(0)
    const run = fileCoverage(final, dir, 'run.py')
    for (const line of ["seen = 'worker one'", "seen = 'worker two'", "seen = 'worker three'", "seen = 'worker four'", "thread = 'core zero'", "thread = 'core one'", 'return jsonify(', "return 'index'", "BOOT_MESSAGE = 'import-time line'"]) {
      expect(statementHits(run, lineOf(dir, 'run.py', line)), line).toBe(1)
    }
    expect(statementHits(run, lineOf(dir, 'run.py', "'never called by the tests'"))).toBe(0)
    expect(serve.output()).toContain(`mapped the servers' ${app}/… to ${dir}/…`)
    const never = fileCoverage(final, dir, 'big.py')
    expect([Object.keys(never.s).length, Object.values(never.s).filter((hits) => hits > 0).length]).toEqual([3000, 0])
    expectSameAsCoverageReport(expect, final, reportOfSent(kept, app, dir), { [join(dir, 'run.py')]: { total: 6, covered: 6 } })
  }, 90_000)

  test('gunicorn (4 workers) through PYTHONPATH: every worker reports; a snapshot mid-run, then the collector restarts: nothing lost, nothing twice', async () => {
    const dir = track(makeProject('gunicorn-flask'))
    const app = appCopy('gunicorn-flask', ['app.py'])
    const kept = track(mkdtempSync(join(tmpdir(), 'sc-kept-')))
    const port = await getPort({ host: '127.0.0.1' })
    const args = ['--agents', `127.0.0.1:${port}`]
    const first = await serveIn(dir, args)
    const http = await getPort({ host: '127.0.0.1' })
    const server = startServer('gunicorn', ['--workers', '4', '--bind', `127.0.0.1:${http}`, 'app:app'], app, agentEnv('gunicorn', `127.0.0.1:${port}`, kept))
    await spread(`http://127.0.0.1:${http}/hello`, (body) => String(body.pid), 4)
    // The arbiter and its 4 workers.
    expect(await eventually(() => /\(5 connected\)/.test(first.output()), 20_000), first.output()).toBe(true)
    const hello = (data: CoverageMapData): number | undefined => statementHits(fileCoverage(data, dir, 'app.py'), lineOf(dir, 'app.py', 'return jsonify(pid'))
    expect(hello(await collectFrom(dir, 'snapshot', 'snap'))).toBe(1)
    const stopped = await collectFrom(dir, 'stop', 'first')
    expect(hello(stopped)).toBe(1)
    expect(statementHits(fileCoverage(stopped, dir, 'app.py'), lineOf(dir, 'app.py', "'never called by the tests'"))).toBe(0)
    await first.result
    // No collector: the server serves on, and what it runs waits in its processes.
    expect((await get(`http://127.0.0.1:${http}/never`)).status).toBe(200)
    const second = await serveIn(dir, args)
    expect(await eventually(() => /\(5 connected\)/.test(second.output()), 40_000), second.output()).toBe(true)
    const after = await collectFrom(dir, 'stop', 'second')
    const file = fileCoverage(after, dir, 'app.py') as FileCoverageData
    // What ran while no collector listened is kept; what the first collector took is not sent again.
    expect(statementHits(file, lineOf(dir, 'app.py', "'never called by the tests'"))).toBe(1)
    expect(statementHits(file, lineOf(dir, 'app.py', 'return jsonify(pid'))).toBe(0)
    expect(server.exitCode).toBe(null)
    // Both collectors' data together is what `coverage report` says of every file the agents sent.
    const both = structuredClone(stopped)
    const afterApp = after[join(dir, 'app.py')] as FileCoverageData
    const bothApp = both[join(dir, 'app.py')] as FileCoverageData
    for (const [id, hits] of Object.entries(afterApp.s)) bothApp.s[id] = Math.max(bothApp.s[id] ?? 0, hits)
    for (const [id, hits] of Object.entries(afterApp.f)) bothApp.f[id] = Math.max(bothApp.f[id] ?? 0, hits)
    for (const [id, hits] of Object.entries(afterApp.b)) bothApp.b[id] = hits.map((hit, arm) => Math.max(bothApp.b[id]?.[arm] ?? 0, hit))
    expectSameAsCoverageReport(expect, both, reportOfSent(kept, app, dir), { [join(dir, 'app.py')]: { total: 4, covered: 4 } })
  }, 120_000)

  test.skipIf(unavailable !== undefined)('gunicorn (4 workers) on another host (a network namespace) reports to a collector on this one', async () => {
    const dir = track(makeProject('gunicorn-flask'))
    const app = appCopy('gunicorn-flask', ['app.py'])
    const kept = track(mkdtempSync(join(tmpdir(), 'sc-kept-')))
    const port = await getPort()
    const serve = await serveIn(dir, ['--agents', `0.0.0.0:${port}`])
    const host = makeHost(21)
    cleanups.push(() => host.remove())
    // Started from another folder (`--chdir`): SERVER_COVERAGE_SOURCE names what to measure.
    const child = host.spawn('gunicorn', ['--workers', '4', '--bind', '0.0.0.0:8080', '--chdir', app, 'app:app'], agentEnv('gunicorn', `${host.gateway}:${port}`, kept, { SERVER_COVERAGE_SOURCE: app }))
    groups.push(child)
    await spread(`http://${host.address}:8080/hello`, (body) => String(body.pid), 4)
    expect(await eventually(() => /\(5 connected\)/.test(serve.output()), 20_000), serve.output()).toBe(true)
    expect(serve.output()).toMatch(new RegExp(`network agent of process \\d+ \\(/usr/bin/gunicorn --workers\\) on \\S+ from ${host.address.replace(/\./g, '\\.')}:\\d+ registered`))
    const final = await collectFrom(dir, 'stop', 'final')
    expect((await serve.result).code).toBe(0)
    expect(statementHits(fileCoverage(final, dir, 'app.py'), lineOf(dir, 'app.py', 'return jsonify(pid'))).toBe(1)
    expectSameAsCoverageReport(expect, final, reportOfSent(kept, app, dir), { [join(dir, 'app.py')]: { total: 4, covered: 4 } })
  }, 90_000)
})
