import type { FileCoverageData } from 'istanbul-lib-coverage'
import type { Collected, CoverageSession } from '../../dist/index.js'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { constants, tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { startServerCoverage } from '../../dist/index.js'
import { eventually, isAlive, lineOf, makeProject, statementHits, tempDirs } from './harness.js'
import { missingPythonTools } from './python-support.js'

// Server processes stopped by something else while the server runs (a supervisor, the OOM killer,
// `kill`), read through the session API: a process SIGTERMed keeps everything it ran — also a
// process whose main thread only waits while other threads serve, where Coverage.py 6.5's own
// `sigterm` setting lost the data (coveragepy#1599, fixed in 7.2.3) and where a SystemExit would
// wait forever for a non-daemon thread; a SIGKILLed worker keeps its last checkpoint, and what it
// ran after it is lost and said so. A second stop signal on a process's way out (uvicorn's
// supervisor SIGTERMs every worker after the Ctrl+C that stopped it; Ctrl+C twice) never costs its
// exit save: the agent's test-only pause (SERVER_COVERAGE_PY_TEST_PAUSE) holds the process at the
// exact point, so these do not depend on timing. The periodic save is pushed out of the way (an
// hour), so only the paths under test save.

const missing = missingPythonTools(['asgi'])
const track = tempDirs()
const NO_PERIODIC_SAVE = { SERVER_COVERAGE_PY_SAVE_INTERVAL: '3600' }

interface Answer {
  pid: number
}

async function start(dir: string, command: string, url: string, env: Record<string, string> = {}): Promise<{ session: CoverageSession; base: string; log: string[] }> {
  const log: string[] = []
  const session = await startServerCoverage({ command, url, cwd: dir, env: { ...NO_PERIODIC_SAVE, ...env } }, { root: dir, log: (line) => log.push(line) })
  return { session, base: session.urls.server!, log }
}

async function get(base: string, path: string): Promise<Answer> {
  const response = await fetch(base + path, { headers: { connection: 'close' } })
  expect(response.status).toBe(200)
  return (await response.json()) as Answer
}

async function killAndWait(pid: number, signal: NodeJS.Signals): Promise<void> {
  process.kill(pid, signal)
  expect(await eventually(() => !isAlive(pid), 10_000), `process ${pid} exited after ${signal}`).toBe(true)
}

/** Holds process `pid` at `point` of its exit path, and waits there until the test resumes it (see the agent's `_test_pause`). */
function holdAt(pauses: string, pid: number, point: 'exit' | 'exit-save'): { reached: () => Promise<void>; resume: () => void } {
  writeFileSync(join(pauses, String(pid)), point)
  return {
    reached: async () => expect(await eventually(() => existsSync(join(pauses, `${pid}.paused`)), 10_000), `process ${pid} reached ${point}`).toBe(true),
    resume: () => writeFileSync(join(pauses, `${pid}.resume`), ''),
  }
}

/** `signal` still waits in the process's shared pending set: no thread of it has taken it yet. */
function pending(pid: number, signal: NodeJS.Signals): boolean {
  try {
    const mask = /ShdPnd:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0'
    return ((BigInt(`0x${mask}`) >> BigInt(constants.signals[signal] - 1)) & 1n) === 1n
  } catch {
    return false
  }
}

function hitsIn(collected: Collected, dir: string, file: string, marker: string): number | undefined {
  const data = collected.data[`${dir}/${file}`] as FileCoverageData | undefined
  return data ? statementHits(data, lineOf(dir, file, marker)) : 0
}

describe.skipIf(missing.length > 0)('Python server processes stopped by a signal from outside', () => {
  test('uvicorn, 4 workers: SIGTERM keeps what the worker ran; SIGKILL keeps the last checkpoint; without one, the loss is named', async () => {
    const dir = track(makeProject('fastapi-asgi'))
    const { session, base, log } = await start(dir, '/usr/bin/python3 -m uvicorn app:app --workers 4 --port {port}', '/pid')
    try {
      await session.collect() // the boot and the probe: out of the way
      const line = (text: string): string => `'line': '${text}'`

      const terminated = await get(base, '/once/terminated')
      await killAndWait(terminated.pid, 'SIGTERM')
      expect(hitsIn(await session.collect(), dir, 'app.py', line('only before a SIGTERM'))).toBe(1)

      const checkpointed = await get(base, '/once/checkpointed')
      await session.checkpoint()
      await killAndWait(checkpointed.pid, 'SIGKILL')
      expect(hitsIn(await session.collect(), dir, 'app.py', line('only before a checkpoint and a SIGKILL'))).toBe(1)

      const killed = await get(base, '/once/killed')
      await killAndWait(killed.pid, 'SIGKILL')
      expect(hitsIn(await session.collect(), dir, 'app.py', line('only before a SIGKILL'))).toBe(0)

      const output = log.join('\n')
      expect(output).not.toContain(`process ${terminated.pid} `)
      expect(output).toContain(`process ${checkpointed.pid} (python3 multiprocessing worker) of "server" exited without saving its coverage (killed by a signal?)`)
      expect(output).toMatch(new RegExp(`process ${killed.pid} \\(python3 multiprocessing worker\\) of "server" exited without saving its coverage \\(killed by a signal\\?\\): what it ran since its last save \\d+ ms before it died is lost`))
    } finally {
      await session.stop()
    }
  })

  test('a threaded plain Python server (main thread waiting, a non-daemon thread running forever), SIGTERM: everything it ran is kept and it dies of the signal', async () => {
    const dir = track(makeProject('python-plain'))
    const { session, base, log } = await start(dir, '/usr/bin/python3 threaded_server.py', '/')
    try {
      await session.collect()
      const served = await get(base, '/once')
      await killAndWait(served.pid, 'SIGTERM')
      expect(hitsIn(await session.collect(), dir, 'threaded_server.py', "text = 'only before a SIGTERM'")).toBe(1)
      expect(log.join('\n')).not.toContain('exited without saving')
    } finally {
      await session.stop()
    }
  })

  test('a uvicorn worker stopped by Ctrl+C, then SIGTERMed by its supervisor after its event loop closed (which put SIGTERM back to its default): what it ran after the stop is kept', async () => {
    const dir = track(makeProject('fastapi-asgi'))
    const pauses = track(mkdtempSync(join(tmpdir(), 'sc-pause-')))
    const { session, base, log } = await start(dir, '/usr/bin/python3 -m uvicorn app:app --workers 4 --port {port}', '/pid', { SERVER_COVERAGE_PY_TEST_PAUSE: pauses })
    try {
      await session.collect()
      const { pid } = await get(base, '/pid')
      // Its shutdown handler runs, its loop closes, its work ends: held just before its exit save.
      const hold = holdAt(pauses, pid, 'exit')
      process.kill(pid, 'SIGINT')
      await hold.reached()
      // What uvicorn's supervisor sends every worker in turn, once the previous one has exited.
      await killAndWait(pid, 'SIGTERM')
      expect(hitsIn(await session.collect(), dir, 'app.py', "DONE.append('shutdown handler ran')")).toBe(1)
      expect(log.join('\n')).not.toContain(`process ${pid} `)
    } finally {
      await session.stop()
    }
  })

  test('a plain Python server stopping on Ctrl+C gets a second stop signal (SIGTERM, or Ctrl+C again) in the middle of its exit save: the save completes first', async () => {
    for (const second of ['SIGTERM', 'SIGINT'] as const) {
      const dir = track(makeProject('python-plain'))
      const pauses = track(mkdtempSync(join(tmpdir(), 'sc-pause-')))
      const { session, base, log } = await start(dir, '/usr/bin/python3 stopping_server.py', '/', { SERVER_COVERAGE_PY_TEST_PAUSE: pauses })
      try {
        await session.collect()
        const { pid } = await get(base, '/')
        const hold = holdAt(pauses, pid, 'exit-save')
        process.kill(pid, 'SIGINT')
        await hold.reached()
        process.kill(pid, second)
        // Its heartbeat thread takes the signal; Python runs the handler in the main thread, inside the save.
        expect(await eventually(() => !pending(pid, second), 10_000), `process ${pid} took ${second}`).toBe(true)
        hold.resume()
        expect(await eventually(() => !isAlive(pid), 10_000), `process ${pid} exited`).toBe(true)
        expect(hitsIn(await session.collect(), dir, 'stopping_server.py', "stopped = 'after Ctrl+C'"), second).toBe(1)
        expect(log.join('\n')).not.toContain(`process ${pid} `)
      } finally {
        await session.stop()
      }
    }
  })
})
