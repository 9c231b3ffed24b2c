import { cpSync, existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { REPO, fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, runCli, runVitest, statementHits, tempDirs } from './harness.js'
import { makeJestProject, runJest } from './jest-harness.js'
import { collectFrom, counters, startServe } from './serve-harness.js'

const track = tempDirs()
const SERVE_ARGS = ['--command', 'node server.js', '--url', '/health', '--env', 'WORKERS=2', '--include', 'src/**', '--include', 'server.js']

/** `count` GETs of `path`, `concurrency` at a time, each on a new connection (spread over the workers); returns how many failed. */
async function load(base: string, path: string, count: number, concurrency: number): Promise<number> {
  let next = 0
  let failed = 0
  const lane = async (): Promise<void> => {
    while (next < count) {
      next += 1
      const res = await fetch(`${base}${path}`, { headers: { connection: 'close' } }).catch(() => undefined)
      if (res?.status !== 200) failed += 1
      await res?.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  return failed
}

describe('server-coverage serve, snapshot and stop', () => {
  test('20 snapshots at random moments end with the numbers of a run without snapshots; each snapshot holds at least the previous one; no request fails', async () => {
    const REQUESTS = 400
    const finals = []
    for (const snapshots of [20, 0]) {
      const dir = track(makeProject('cluster'))
      const serve = await startServe(dir, SERVE_ARGS)
      expect(statSync(join(dir, '.server-coverage', 'serve.json')).mode & 0o777).toBe(0o600)
      const base = serve.urls.server!
      const requests = load(base, '/hello', REQUESTS, 4)
      const taken: Map<string, number>[] = []
      for (let i = 0; i < snapshots; i++) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 60)) // a random moment, on purpose
        taken.push(counters(await collectFrom(dir, 'snapshot', `snap-${i}`)))
      }
      expect(await requests).toBe(0)
      const final = await collectFrom(dir, 'stop', 'final')
      expect((await serve.result).code).toBe(0)
      expect(existsSync(join(dir, '.server-coverage', 'serve.json'))).toBe(false)
      // Monotone: V8 resets its counters on every flush, the serve keeps the sum.
      for (const [i, snapshot] of taken.entries()) {
        const next = taken[i + 1] ?? counters(final)
        for (const [key, hits] of snapshot) expect(next.get(key) ?? 0, `${key} after snapshot ${i}`).toBeGreaterThanOrEqual(hits)
      }
      const routes = fileCoverage(final, dir, 'src/routes.js')
      expect(statementHits(routes, lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))).toBe(REQUESTS)
      finals.push(counters(final))
    }
    // Exact: the same counters as one read at the end (the file paths differ per project copy).
    const strip = (map: Map<string, number>): [string, number][] => [...map].map(([key, hits]): [string, number] => [key.replace(/^.*?\/(src\/routes\.js|server\.js)\|/, '$1|'), hits]).sort()
    expect(strip(finals[0]!)).toEqual(strip(finals[1]!))
  }, 120_000)

  test('Vitest, `run --attach` and Jest attach to a running serve: each report holds what ran since its attach, and the servers keep running', async () => {
    const dir = track(makeProject('cluster'))
    const mark = newMark()
    const serve = await startServe(dir, [...SERVE_ARGS, '--env', `SC_E2E_MARK=${mark}`])
    const base = serve.urls.server!
    expect(await load(base, '/never', 7, 1)).toBe(0) // before anyone attached

    const vitest = await runVitest(dir, ['run', '--coverage'], { SERVER_COVERAGE_ATTACH: serve.address, HITS: '12' })
    expect(vitest.code, vitest.output).toBe(0)
    expect(vitest.output).toContain('SERVER_COVERAGE_ATTACH is set: using the running serve')
    expect(vitest.output).not.toContain('starting "node server.js"')
    const fromVitest = fileCoverage(readCoverage(dir), dir, 'src/routes.js')
    expect(statementHits(fromVitest, lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))).toBe(12)
    expect(statementHits(fromVitest, lineOf(dir, 'src/routes.js', "'never called by the tests'"))).toBe(0)
    expect(await load(base, '/hello', 1, 1)).toBe(0) // still running

    // A node:test suite (outside Vitest's test folder) run by the CLI.
    cpSync(join(REPO, 'test/fixtures/projects/cli/test/hello.test.mjs'), join(dir, 'node-tests/hello.mjs'))
    const viaRun = await runCli(dir, ['run', '--attach', serve.address, '--reporter', 'json', '--reports-dir', 'run-report', '--', 'node', '--test', 'node-tests/hello.mjs'], { HITS: '5' })
    expect(viaRun.code, viaRun.output).toBe(0)
    const fromRun = fileCoverage(JSON.parse(readFileSync(join(dir, 'run-report', 'coverage-final.json'), 'utf8')), dir, 'src/routes.js')
    // The one /hello sent between the two attaches belongs to neither runner, only to the serve's whole.
    expect(statementHits(fromRun, lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))).toBe(5)

    const whole = fileCoverage(await collectFrom(dir, 'snapshot', 'whole'), dir, 'src/routes.js')
    expect(statementHits(whole, lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))).toBe(12 + 1 + 5)
    expect(statementHits(whole, lineOf(dir, 'src/routes.js', "'never called by the tests'"))).toBe(7)
    await collectFrom(dir, 'stop', 'final')
    await serve.result
    expect(processesMarked(mark)).toEqual([])
  }, 120_000)

  test('Jest attaches through SERVER_COVERAGE_ATTACH too', async () => {
    const dir = track(makeJestProject('cluster'))
    const serve = await startServe(dir, ['--command', 'node server.mjs', '--url', '/health', '--env', 'WORKERS=2'])
    const jest = await runJest(dir, ['--coverage'], { SERVER_COVERAGE_ATTACH: serve.address, HITS: '9' })
    expect(jest.code, jest.output).toBe(0)
    expect(jest.output).toContain('attached to the serve')
    const routes = fileCoverage(readCoverage(dir), dir, 'src/routes.mjs')
    expect(statementHits(routes, lineOf(dir, 'src/routes.mjs', 'JSON.stringify({ hello'))).toBe(9)
    await collectFrom(dir, 'stop', 'final')
    expect((await serve.result).code).toBe(0)
  }, 120_000)

  test('snapshot, stop and attach say clearly when no serve is running', async () => {
    const dir = track(makeProject('cluster'))
    for (const command of ['snapshot', 'stop']) {
      const run = await runCli(dir, [command])
      expect(run.code).toBe(1)
      expect(run.output).toContain('no running `server-coverage serve` found')
      expect(run.output).toContain(join(dir, '.server-coverage', 'serve.json'))
    }
    const gone = await runCli(dir, ['snapshot', '--attach', join(dir, 'nothing.sock')])
    expect(gone.code).toBe(1)
    expect(gone.output).toMatch(/cannot attach to the serve at .*nothing\.sock.*ENOENT/)
  })
})
