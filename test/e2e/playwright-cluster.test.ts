import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from '@playwright/test'
import getPort from 'get-port'
import { describe, expect, test } from 'vitest'
import { CLI, NODE, eventually, fileCoverage, lineOf, newMark, processesMarked, statementHits, tempDirs, watchOutput } from './harness.js'
import { CHROMIUM, hasChromium, interruptLikeATerminal, makePlaywrightProject, readCoverageFile, runPlaywright, startPlaywright } from './playwright-harness.js'

// The real Playwright Test CLI, API tests only (the `request` fixture: no browser), against a
// node:cluster server that `withServerCoverage` boots under coverage in place of Playwright.

const track = tempDirs()
const hasBrowser = hasChromium()
const ROUTES = 'src/routes.js'
const ITEM_HANDLER = 'JSON.stringify({ id: Number(match[1])'

/** Waits until `url` answers 200 (the server's own readiness, no event to wait for). */
async function answers(url: string): Promise<boolean> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (await fetch(url).then((response) => response.ok, () => false)) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}

function hitsOf(coverage: CoverageMapData, dir: string, marker: string): number | undefined {
  return statementHits(fileCoverage(coverage, dir, ROUTES), lineOf(dir, ROUTES, marker))
}

describe('Playwright API tests against a 4-worker cluster', () => {
  test('40 requests over 4 workers count 40 in the handler; --workers 2, fullyParallel and a retried test; a met threshold passes', async () => {
    const dir = track(makePlaywrightProject('cluster'))
    const pids = join(dir, 'pids.txt')
    const run = await runPlaywright(dir, ['--workers', '2', '--fully-parallel'], { PIDS_FILE: pids, FLAKY: '1', RETRIES: '1', LINES: '50' })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/8 passed/)
    expect(run.output).toMatch(/1 flaky/)
    // Our server answered, under coverage: 4 workers + the primary were flushed.
    expect(run.output).toMatch(/ready at http:\/\/127\.0\.0\.1:\d+ in \d+ ms/)
    expect(run.output).toMatch(/collected coverage from 5 processes/)
    expect(new Set(readFileSync(pids, 'utf8').trim().split('\n')).size).toBe(4)
    const coverage = readCoverageFile(dir)
    // 40 requests of the batches + the flaky test's two attempts.
    expect(hitsOf(coverage, dir, ITEM_HANDLER)).toBe(42)
    expect(hitsOf(coverage, dir, "res.end('not found')")).toBe(0)
    // The readiness probe is one request to /health.
    expect(hitsOf(coverage, dir, "res.end('ok')")).toBe(1)
    // The text table is printed; server.js is in it (include: src/**, server.js).
    expect(run.output).toMatch(/routes\.js\s+\|/)
    expect(Object.keys(coverage).map((file) => file.slice(dir.length + 1)).sort()).toEqual(['server.js', ROUTES])
  })

  test("our own options in a webServer entry: `app` + `workers: 4` (the handler hosted in our cluster) counts 40", async () => {
    const dir = track(makePlaywrightProject('cluster'))
    const pids = join(dir, 'pids.txt')
    const run = await runPlaywright(dir, ['--workers', '2'], { APP: '1', PIDS_FILE: pids })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/starting "app src\/routes\.js \(4 workers\)"/)
    expect(run.output).toMatch(/collected coverage from 5 processes/)
    expect(new Set(readFileSync(pids, 'utf8').trim().split('\n')).size).toBe(4)
    expect(hitsOf(readCoverageFile(dir), dir, ITEM_HANDLER)).toBe(40)
  })

  test('a threshold that is not met fails the run, naming the metric', async () => {
    const dir = track(makePlaywrightProject('cluster'))
    const run = await runPlaywright(dir, [], { LINES: '99' })
    expect(run.code, run.output).toBe(1)
    expect(run.output).toMatch(/8 passed/)
    expect(run.output).toMatch(/server-coverage: lines coverage of all files is [\d.]+%, below the 99% threshold \(`thresholds\.lines`\)/)
    // The report is still written.
    expect(hitsOf(readCoverageFile(dir), dir, ITEM_HANDLER)).toBe(40)
  })

  test('a server that ignores SIGTERM is flushed before it is signalled: SIGKILLed, and fully counted', async () => {
    const dir = track(makePlaywrightProject('cluster'))
    const run = await runPlaywright(dir, [], { IGNORE_SIGTERM: '1', GRACE_MS: '300' })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/killed with SIGKILL/)
    expect(hitsOf(readCoverageFile(dir), dir, ITEM_HANDLER)).toBe(40)
  })

  test('Ctrl+C (SIGINT to the runner and its workers) leaves no server process', async () => {
    const dir = track(makePlaywrightProject('cluster'))
    const mark = newMark()
    const { child, result } = startPlaywright(dir, ['--workers', '1'], { HANG: '1', SERVER_MARK: mark, WORKERS: '2' })
    await watchOutput(child).waitFor(/HANGING NOW/)
    expect(processesMarked(mark)).toHaveLength(3)
    interruptLikeATerminal(child.pid!)
    const run = await result
    expect(run.output).toMatch(/interrupted: the servers are stopped; no coverage report was written/)
    expect(await eventually(() => processesMarked(mark).length === 0, 10_000)).toBe(true)
  })
})

describe.skipIf(!hasBrowser)('Playwright --ui', () => {
  test('the server boots with the UI session, the runs the UI starts are collected, and ending the session (Ctrl+C) writes the report', async () => {
    const dir = track(makePlaywrightProject('cluster'))
    const pids = join(dir, 'pids.txt')
    const mark = newMark()
    const { child, result } = startPlaywright(dir, ['--ui-port=0'], { PIDS_FILE: pids, SERVER_MARK: mark })
    const output = watchOutput(child)
    await output.waitFor(/Listening on http:\/\/localhost:\d+/)
    const uiUrl = /Listening on (http:\/\/localhost:\d+)/.exec(output.text())![1]!
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
    try {
      const page = await browser.newPage()
      await page.goto(uiUrl)
      await page.getByTitle('Run all').click()
      // The 8 batches' 40 requests reach the server (no UI text to wait for that is as certain).
      expect(await eventually(() => existsSync(pids) && readFileSync(pids, 'utf8').trim().split('\n').length === 40, 30_000)).toBe(true)
      expect(processesMarked(mark)).toHaveLength(5)
    } finally {
      await browser.close()
    }
    interruptLikeATerminal(child.pid!)
    const run = await result
    expect(run.output).toMatch(/collected coverage from 5 processes/)
    expect(hitsOf(readCoverageFile(dir), dir, ITEM_HANDLER)).toBe(40)
    expect(await eventually(() => processesMarked(mark).length === 0, 10_000)).toBe(true)
  })
})

describe('Playwright --debug', () => {
  test('the server boots and the run is collected (API tests: no browser, so no inspector window)', async () => {
    const dir = track(makePlaywrightProject('cluster'))
    const run = await runPlaywright(dir, ['--debug'])
    expect(run.code, run.output).toBe(0)
    expect(hitsOf(readCoverageFile(dir), dir, ITEM_HANDLER)).toBe(40)
  })
})

describe('Playwright --shard', () => {
  test('the shards merged with `server-coverage merge` equal one run, except what each server boot runs once', async () => {
    const dir = track(makePlaywrightProject('cluster'))
    // One worker: the number does not matter here, and a run shorter than a late worker's boot
    // (the boot-only run has no test) would stop that worker before its agent loaded, losing its
    // start-up lines and making one boot's counts differ from another's.
    const env = { WORKERS: '1' }
    for (const shard of [1, 2]) {
      const run = await runPlaywright(dir, [`--shard=${shard}/2`], env)
      expect(run.code, run.output).toBe(0)
      expect(run.output).toMatch(new RegExp(`shard ${shard}/2: saved its data to .*shard-${shard}-of-2`))
    }
    const merge = spawnSync(NODE, [CLI, 'merge', 'coverage/shard-1-of-2', 'coverage/shard-2-of-2', '--out', 'merged/coverage-final.json'], { cwd: dir, encoding: 'utf8' })
    expect(merge.status, merge.stderr).toBe(0)
    const single = await runPlaywright(dir, [], env)
    expect(single.code, single.output).toBe(0)
    const once = readCoverageFile(dir)
    // What one boot of the server runs without any test: module top levels, the readiness probe.
    const boot = await runPlaywright(dir, ['--grep', 'no test has this title', '--pass-with-no-tests'], env)
    expect(boot.code, boot.output).toBe(0)
    const bootOnly = readCoverageFile(dir)
    const merged = readCoverageFile(dir, 'merged/coverage-final.json')
    expect(Object.keys(merged).sort()).toEqual(Object.keys(once).sort())
    for (const file of Object.keys(once)) {
      const [m, o, b] = [merged[file], once[file], bootOnly[file]] as FileCoverageData[]
      expect(m!.statementMap, file).toEqual(o!.statementMap)
      // Two shards = two boots: exactly one boot's counts more than the single run, nothing else.
      for (const id of Object.keys(o!.s)) expect(m!.s[id], `${file} statement ${id}`).toBe(o!.s[id]! + (b?.s[id] ?? 0))
      for (const id of Object.keys(o!.f)) expect(m!.f[id], `${file} function ${id}`).toBe(o!.f[id]! + (b?.f[id] ?? 0))
      for (const id of Object.keys(o!.b)) expect(m!.b[id], `${file} branch ${id}`).toEqual(o!.b[id]!.map((hits, arm) => hits + (b?.b[id]?.[arm] ?? 0)))
    }
    expect(hitsOf(merged, dir, ITEM_HANDLER)).toBe(40)
    expect(hitsOf(bootOnly, dir, "res.end('ok')")).toBe(1)
  })
})

describe('Playwright reuseExistingServer', () => {
  test('a server already answering at `url` is used as it is, and the output says once that its coverage cannot be measured', async () => {
    const dir = track(makePlaywrightProject('cluster'))
    const port = await getPort({ host: '127.0.0.1' })
    const server = spawn(NODE, ['server.js'], { cwd: dir, env: { ...process.env, PORT: String(port), WORKERS: '1' }, stdio: 'ignore', detached: true })
    try {
      expect(await answers(`http://127.0.0.1:${port}/health`)).toBe(true)
      const run = await runPlaywright(dir, [], { REUSE_PORT: String(port) })
      expect(run.code, run.output).toBe(0)
      expect(run.output).toMatch(/8 passed/)
      expect(run.output.match(/its coverage cannot be measured/g)).toHaveLength(1)
      expect(existsSync(join(dir, 'coverage', 'coverage-final.json'))).toBe(true)
      expect(run.output).not.toMatch(/starting "node server\.js"/)
      expect(run.output).toMatch(/reuseExistingServer/)
    } finally {
      process.kill(-server.pid!, 'SIGKILL')
    }
  })
})

describe('Playwright reuseExistingServer with a `server-coverage serve`', () => {
  test('the server already running under serve is attached to: what the tests ran is reported, and it keeps running', async () => {
    const dir = track(makePlaywrightProject('cluster'))
    const port = await getPort({ host: '127.0.0.1' })
    const serve = spawn(NODE, [CLI, 'serve', '--command', 'node server.js', '--port', String(port), '--url', '/health', '--env', 'WORKERS=2', '--reporter', 'none'], {
      cwd: dir,
      stdio: 'ignore',
      detached: true,
    })
    try {
      expect(await eventually(() => existsSync(join(dir, '.server-coverage', 'serve.json')), 20_000)).toBe(true)
      expect(await answers(`http://127.0.0.1:${port}/health`)).toBe(true)
      const run = await runPlaywright(dir, [], { REUSE_PORT: String(port) })
      expect(run.code, run.output).toBe(0)
      expect(run.output).toMatch(/already running under `server-coverage serve` \(`reuseExistingServer`\): attached/)
      expect(run.output).not.toMatch(/cannot be measured/)
      expect(hitsOf(readCoverageFile(dir), dir, ITEM_HANDLER)).toBe(40)
      expect(await answers(`http://127.0.0.1:${port}/health`)).toBe(true)
    } finally {
      // serve stops its servers on SIGINT (as on Ctrl+C)
      const exited = new Promise((resolve) => serve.once('exit', resolve))
      serve.kill('SIGINT')
      await exited
    }
  })
})
