import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { RunResult } from './harness.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import getPort, { portNumbers } from 'get-port'
import { describe, expect, test } from 'vitest'
import { makeJestProject, runJest } from './jest-harness.js'
import { REPO, fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, runCli, runVitest, statementHits, tempDirs } from './harness.js'

// Nine tiny apps, each with its own start guard and export style (test/fixtures/apps/guards), all
// hosted by `app` with 4 workers at once, through the Vitest plugin, Jest and the CLI. A guard
// that woke would listen on GUARD_PORT and print "<name> started on port …" (the host would then
// also refuse the app); the handler's hits must equal the requests, spread over the workers.

interface GuardApp {
  name: string
  file: string
  appExport?: string
  /** A line run once when the module loads. */
  loadLine: string
}

const APPS = JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'apps', 'guards', 'apps.json'), 'utf8')) as GuardApp[]
const REQUESTS = 8
const WORKERS = 4
const track = tempDirs()

/**
 * GUARD_PORT is free, and below Linux's ephemeral range (32768+), where the session's own free
 * ports (and client sockets) come from: otherwise a server could be given the same port, and
 * "something listens on the guard's port" would be true for the wrong reason.
 */
async function runEnv(): Promise<Record<string, string>> {
  const guardPort = await getPort({ host: '127.0.0.1', port: portNumbers(20_000, 30_000) })
  return { GUARD_PORT: String(guardPort), REQUESTS: String(REQUESTS), SC_E2E_MARK: newMark() }
}

/** What every runner must show: guards asleep, every worker listening, hits = requests, load lines once per worker. */
function expectHosted(run: RunResult, dir: string, env: Record<string, string>, runner: 'vitest' | 'jest' | 'cli'): void {
  expect(run.code, run.output).toBe(0)
  const coverage: CoverageMapData = readCoverage(dir)
  expect(run.output).not.toContain('started on port')
  // Every worker of every app listened before the tests started. (How many processes had
  // registered by then is the session's count, not asserted here.)
  const ready = run.output.match(/ready at http:\/\/127\.0\.0\.1:\d+ in \d+ ms \(4 of 4 workers listening, \d+ processes registered\)/g) ?? []
  expect(ready, run.output).toHaveLength(APPS.length)
  for (const app of APPS) {
    const file = `guards/${app.file}`
    const data = fileCoverage(coverage, dir, file)
    expect(statementHits(data, lineOf(dir, file, `app: '${app.name}', pid: process.pid`)), app.name).toBe(REQUESTS)
    // Loaded once in each worker, never in the primary. Jest converts with v8-to-istanbul, which
    // leaves the top-level lines of a source-mapped script (tsx) at 1: their range maps to no line.
    const loads = statementHits(data, lineOf(dir, file, app.loadLine))
    expect(loads, app.name).toBe(runner === 'jest' && app.file.endsWith('.ts') ? 1 : WORKERS)
    const pids = new RegExp(`PIDS ${app.name}=([\\d,]+)`).exec(run.output)?.[1]?.split(',')
    if (pids) expect(pids.length, app.name).toBeGreaterThan(1)
  }
  expect(processesMarked(env.SC_E2E_MARK ?? '')).toEqual([])
}

describe('start guards stay asleep with 4 workers per app', () => {
  test('Vitest plugin', async () => {
    const dir = track(makeProject('app-guards'))
    const env = await runEnv()
    const run = await runVitest(dir, ['run', '--coverage'], env)
    expectHosted(run, dir, env, 'vitest')
    expect(run.output.match(/PIDS /g)).toHaveLength(APPS.length)
  })

  test('Jest', async () => {
    const dir = track(makeJestProject('app-guards'))
    const env = await runEnv()
    const run = await runJest(dir, ['--coverage'], env)
    expectHosted(run, dir, env, 'jest')
  })

  test('CLI (node:test)', async () => {
    const dir = track(makeProject('app-guards-cli'))
    // The host sets no NODE_ENV: the app sees the one the run was given.
    const env = { ...(await runEnv()), NODE_ENV: 'production' }
    const run = await runCli(dir, ['run', '--reporter', 'json,text', '--', 'node', '--test', 'test/apps.test.mjs'], env)
    expectHosted(run, dir, env, 'cli')
    expect(run.output).toContain('NODE_ENV cjs-parent=production')
  })

  test('an app that listens by itself at load time (no guard): one error naming the port and the guard', async () => {
    const dir = track(makeProject('app-guards-cli'))
    const env = await runEnv()
    const run = await runCli(dir, ['run', '--app', 'guards/broken/listens-at-load.cjs', '--workers', '4', '--', 'node', '-e', ''], env)
    expect(run.code, run.output).toBe(1)
    expect(run.output).toContain(
      `server-coverage: the \`app\` module guards/broken/listens-at-load.cjs started listening on port ${env.GUARD_PORT} by itself while it was loading. ` +
        'server-coverage hosts the app and listens for it, so the module must export the app without listening: guard the listen call so it runs only ' +
        'when the file is started directly, `if (require.main === module) { app.listen(…) }`, or move it to another file.\n(the server printed nothing to stderr/stdout)',
    )
    expect(run.output.match(/started listening/g)).toHaveLength(1)
    expect(processesMarked(env.SC_E2E_MARK ?? '')).toEqual([])
  })
})
