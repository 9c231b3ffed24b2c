// The fault suite: each test drives a real server process through one fault or bad input and
// checks that nothing is lost that could be kept, nothing is left running, and the message is
// clear. Test titles start with the id of their row in the README's "What happens when…" table
// (test/faults/readme-table.test.ts keeps the two in step).
import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import { spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { REPO, lineOf, makeProject, newMark, processesMarked, runVitest, startCli, statementHits, watchOutput } from '../e2e/harness.js'
// Built output: the agent and the cluster host are located next to the compiled session.
import type { ServerCoverageSession } from '../../dist/session.js'
import { startServerCoverage } from '../../dist/index.js'
import { planCommand, substitutePort } from '../../src/launch/command.js'

const SERVERS = join(REPO, 'test', 'fixtures', 'servers')
const cleanup: string[] = []
afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true })
})

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sc-faults-'))
  cleanup.push(dir)
  return dir
}

function hits(data: CoverageMapData, file: string, marker: string): number | undefined {
  const coverage = data[join(SERVERS, file)] as FileCoverageData | undefined
  return coverage && statementHits(coverage, lineOf(SERVERS, file, marker))
}

const get = async (url: string): Promise<string> => (await fetch(url, { headers: { connection: 'close' } })).text()

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe('processes that die or hang', () => {
  test('[F1] a worker SIGKILLed mid-run: its coverage up to its last checkpoint is kept, and the output says what was lost', async () => {
    const lines: string[] = []
    const session = await startServerCoverage(
      { command: `node ${join(SERVERS, 'respawning-cluster.mjs')}`, cwd: SERVERS, include: ['respawning-cluster.mjs'] },
      { log: (line) => lines.push(line) },
    )
    try {
      const base = session.urls.server!
      const firstPid = await get(`${base}/hit`)
      for (let i = 0; i < 4; i++) await get(`${base}/hit`)
      await session.checkpoint()
      for (let i = 0; i < 3; i++) await get(`${base}/hit`)
      // From outside, as `kill -9` or the OOM killer would. (A process that SIGKILLs itself through
      // process.kill still writes its coverage: Node exits normally on that path.)
      process.kill(Number(firstPid), 'SIGKILL')
      // The primary respawns the worker: wait for a new pid to answer.
      // (A connection the primary handed to the dead worker just before it died stalls: time it out.)
      let pid = firstPid
      while (pid === firstPid) pid = await fetch(`${base}/hit`, { signal: AbortSignal.timeout(1000) }).then((res) => res.text(), () => firstPid)
      await get(`${base}/hit`)
      const { data } = await session.collect()
      // 5 before the checkpoint + 2 on the new worker; the 3 after the checkpoint died with the worker.
      expect(hits(data, 'respawning-cluster.mjs', 'const body = String(process.pid)')).toBe(7)
      expect(lines.join('\n')).toMatch(new RegExp(`process ${firstPid} \\(.*\\) of "server" exited without writing coverage \\(killed by a signal\\?\\): its coverage since its last checkpoint \\d+ ms before it died is lost`))
    } finally {
      await session.stop()
    }
  })

  test('[F2] a request hangs past the graceful timeout: the run ends on time, names the forced process, frees the port', async () => {
    const lines: string[] = []
    const session = await startServerCoverage(
      { command: `node ${join(SERVERS, 'hanging-graceful.mjs')}`, cwd: SERVERS, gracefulShutdown: { timeout: 300 } },
      { log: (line) => lines.push(line) },
    )
    const base = session.urls.server!
    const port = Number(new URL(base).port)
    await get(`${base}/`)
    const hanging = fetch(`${base}/hang`).catch(() => 'reset')
    await session.collect()
    await session.stop()
    expect(await hanging).toBe('reset')
    expect(lines.join('\n')).toMatch(/1 process\(es\) of "server" did not exit within 300 ms of SIGTERM .* killed with SIGKILL: \d+ \(node .*hanging-graceful\.mjs\)/)
    expect(await portAccepts(port)).toBe(false)
  })

  test('[F3] 500 requests in flight when the run ends: every completed request is counted', async () => {
    const dir = scratch()
    const countFile = join(dir, 'count.json')
    const run = startCli(dir, [
      'run', '--command', `node ${join(SERVERS, 'counting-graceful.mjs')}`, '--cwd', SERVERS, '--include', 'counting-graceful.mjs',
      '--graceful-shutdown-timeout', '10000', '--reporter', 'json', '--reports-dir', dir, '--', 'node', join(SERVERS, 'burst-client.mjs'),
    ], { COUNT_FILE: countFile, BURST: '500' })
    const { code, output } = await run.result
    expect(code, output).toBe(0)
    expect(output).toContain('burst: 500 requests in flight')
    const counted = JSON.parse(readFileSync(countFile, 'utf8')) as { received: number; completed: number }
    expect(counted).toEqual({ received: 500, completed: 500 })
    const data = JSON.parse(readFileSync(join(dir, 'coverage-final.json'), 'utf8')) as CoverageMapData
    expect(hits(data, 'counting-graceful.mjs', 'completed++')).toBe(500)
  })
})

describe('the runner is interrupted', () => {
  test('[F4] SIGINT to the CLI mid-run: no server process survives, and a second run right after works', async () => {
    const dir = makeProject('cli')
    cleanup.push(dir)
    const mark = newMark()
    const hang = "setInterval(() => {}, 1000); console.log('TESTS RUNNING')"
    const first = startCli(dir, ['run', '--port', '47311', '--', 'node', '-e', hang], { SC_E2E_MARK: mark })
    await watchOutput(first.child).waitFor(/TESTS RUNNING/)
    expect(processesMarked(mark).length).toBeGreaterThanOrEqual(3)
    first.child.kill('SIGINT')
    const interrupted = await first.result
    expect(interrupted.code).not.toBe(0)
    expect(processesMarked(mark)).toEqual([])
    // Same fixed port again: nothing stale holds it.
    const second = startCli(dir, ['run', '--port', '47311', '--reporter', 'none', '--', 'node', '--test', 'test/hello.test.mjs'], { HITS: '2' })
    const again = await second.result
    expect(again.code, again.output).toBe(0)
  })
})

describe('bad inputs', () => {
  test('[F5] `url` naming a fixed port while the server gets a free one is rejected up front', async () => {
    await expect(startServerCoverage({ command: 'node x.js', url: 'http://127.0.0.1:3000/health' })).rejects.toThrow(
      'the `url` option "http://127.0.0.1:3000/health" names port 3000, but the server gets a free port (no `port` option): write {port} in the URL',
    )
  })

  test('[F6] an unreadable config file names the file and why', async () => {
    const dir = scratch()
    appendFileSync(join(dir, 'server-coverage.config.json'), '{ "command": ')
    const { code, output } = await startCli(dir, ['run', '--', 'true']).result
    expect(code).toBe(2)
    expect(output).toContain(`cannot read the config file ${join(dir, 'server-coverage.config.json')}: it could not be loaded`)
  })

  test('[F7] a source file changed between run and report: the run completes and names the file', async () => {
    const dir = scratch()
    const server = join(dir, 'server.mjs')
    appendFileSync(server, readFileSync(join(SERVERS, 'hello.mjs'), 'utf8'))
    const lines: string[] = []
    const session = await startServerCoverage({ command: 'node server.mjs', cwd: dir }, { log: (line) => lines.push(line) })
    try {
      await get(`${session.urls.server}/hello`)
      appendFileSync(server, '\n// edited while the server ran\n')
      const { data } = await session.collect()
      expect(Object.keys(data)).toEqual([server])
      expect(lines.join('\n')).toContain(`${server} changed after the server loaded it`)
    } finally {
      await session.stop()
    }
  })
})

describe('security', () => {
  test('[F8] private data dir and socket, loopback only, no secrets in messages', async () => {
    const session = await startServerCoverage({ command: `node ${join(SERVERS, 'hello.mjs')}`, cwd: SERVERS })
    try {
      const dataDir = (session as ServerCoverageSession).dataDir
      expect(dataDir.startsWith(join(tmpdir(), 'server-coverage-'))).toBe(true)
      expect(dataDir.slice(-6)).toMatch(/^[A-Za-z0-9]{6}$/)
      expect(statSync(dataDir).mode & 0o777).toBe(0o700)
      const serverDir = join(dataDir, readdirSync(dataDir)[0]!)
      expect(statSync(serverDir).mode & 0o777).toBe(0o700)
      expect(statSync(join(serverDir, 'control.sock')).isSocket()).toBe(true)
      expect(new URL(session.urls.server!).hostname).toBe('127.0.0.1')
    } finally {
      await session.stop()
    }
    const failed = await startServerCoverage({ command: 'node exits-at-once.mjs', cwd: scratch(), env: { API_TOKEN: 's3cr3t-value' } }).catch((error: Error) => error)
    expect(String(failed)).toContain('exited with code 1 before it was ready')
    expect(String(failed)).not.toContain('s3cr3t-value')
  })

  test('[F9] user values are never interpolated by a shell unless the command asks for one', async () => {
    // Plain words run as an argv, never through /bin/sh; only shell syntax the user wrote opts in.
    expect(planCommand(substitutePort('node server.js --port {port}', 3000))).toEqual({ file: 'node', args: ['server.js', '--port', '3000'], shell: false })
    expect(planCommand('node server.js && echo hi').shell).toBe(true)
    // Option values are data: a cwd and an env value full of shell syntax reach the server as they are.
    const dir = scratch()
    const cwd = join(dir, 'a$(touch pwned);b')
    mkdirSync(cwd)
    const session = await startServerCoverage({ command: `node ${join(SERVERS, 'echo-env.mjs')}`, cwd, env: { X: '$(touch pwned)' } })
    try {
      expect(JSON.parse(await get(`${session.urls.server}/`))).toEqual({ cwd, x: '$(touch pwned)' })
    } finally {
      await session.stop()
    }
    expect(readdirSync(cwd)).toEqual([])
  })
})

describe('bad coverage inputs', () => {
  test('[F20] a corrupt coverage file: the run completes and names it once', async () => {
    const lines: string[] = []
    const session = await startServerCoverage({ command: `node ${join(SERVERS, 'hello.mjs')}`, cwd: SERVERS, include: ['hello.mjs'] }, { log: (line) => lines.push(line) })
    await get(`${session.urls.server}/hello`)
    const { dataDir } = session as ServerCoverageSession
    const v8Dir = join(dataDir, readdirSync(dataDir)[0]!, 'v8')
    appendFileSync(join(v8Dir, 'coverage-1-1-0.json'), '{"result":[{"scriptId":"1","url":"file:///x.js","functions":[{')
    // While the server runs, an unparseable file may be one being written: it waits.
    const running = await session.collect()
    expect(hits(running.data, 'hello.mjs', 'HELLO_HANDLER')).toBe(1)
    const leftovers = await session.stop({ collect: true })
    expect(leftovers).toBeDefined()
    expect(lines.filter((line) => line.includes('unreadable coverage file'))).toEqual([
      'skipped 1 unreadable coverage file(s) of "server" (truncated or corrupt): coverage-1-1-0.json',
    ])
  })

  // Needs root to mount a tiny tmpfs (CI runs as root); elsewhere the test is reported as skipped.
  test('[F22] the coverage directory is on a full disk: the run completes and says so', async ({ skip }) => {
    const disk = scratch()
    const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', disk]).status === 0
    if (!mounted) skip('mounting a tmpfs needs root and a machine that allows it')
    try {
      const dir = scratch()
      appendFileSync(join(dir, 'client.mjs'), 'for (let i = 0; i < 3; i++) await fetch(`${process.env.SERVER_URL}/hello`)\n')
      const run = startCli(dir, ['run', '--command', `node ${join(SERVERS, 'hello.mjs')}`, '--reporter', 'none', '--', 'node', 'client.mjs'], { TMPDIR: disk })
      const { code, output } = await run.result
      expect(code, output).toBe(0)
      expect(output).toMatch(new RegExp(`the disk holding ${disk}/server-coverage-\\w+/0-server/v8 is full \\(\\d+ KB free\\): V8 could not write the server's coverage`))
      expect(output.match(/is full/g)).toHaveLength(1)
      expect(output).not.toContain('killed by a signal')
    } finally {
      spawnSync('umount', [disk])
    }
  })

  test('[F21] a source map that is missing or wrong: the run completes with the generated file', async () => {
    const dir = scratch()
    const code = readFileSync(join(SERVERS, 'hello.mjs'), 'utf8')
    appendFileSync(join(dir, 'missing-map.mjs'), `${code}\n//# sourceMappingURL=missing-map.mjs.map\n`)
    appendFileSync(join(dir, 'wrong-map.mjs'), `${code}\n//# sourceMappingURL=wrong-map.mjs.map\n`)
    appendFileSync(join(dir, 'wrong-map.mjs.map'), '{"version":3,"sources":["nowhere.ts"],"mappings":"not base64 vlq!"}')
    for (const server of ['missing-map.mjs', 'wrong-map.mjs']) {
      const lines: string[] = []
      const session = await startServerCoverage({ command: `node ${server}`, cwd: dir }, { log: (line) => lines.push(line) })
      try {
        await get(`${session.urls.server}/hello`)
        const { data } = await session.collect()
        // The code that ran is reported, with exact counts, and nothing that does not exist.
        expect(Object.keys(data), lines.join('\n')).toEqual([join(dir, server)])
        expect(statementHits(data[join(dir, server)] as FileCoverageData, lineOf(dir, server, 'HELLO_HANDLER'))).toBe(1)
        if (server === 'wrong-map.mjs') expect(lines.join('\n')).toContain(`${join(dir, server)}: its source map points to files that do not exist`)
      } finally {
        await session.stop()
      }
    }
  })
})

test('[F10] two runs at once in the same project do not collide', async () => {
  const dir = makeProject('cluster')
  cleanup.push(dir)
  const [a, b] = await Promise.all([
    runVitest(dir, ['run', '--coverage', '--coverage.reportsDirectory=cov-a'], { WORKERS: '2', HITS: '7' }),
    runVitest(dir, ['run', '--coverage', '--coverage.reportsDirectory=cov-b'], { WORKERS: '2', HITS: '7' }),
  ])
  expect([a.code, b.code], a.output + b.output).toEqual([0, 0])
  for (const reports of ['cov-a', 'cov-b']) {
    const coverage = JSON.parse(readFileSync(join(dir, reports, 'coverage-final.json'), 'utf8')) as CoverageMapData
    expect(statementHits(coverage[join(dir, 'src/routes.js')] as FileCoverageData, lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))).toBe(7)
  }
})
