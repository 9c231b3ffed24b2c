import type { FileCoverageData } from 'istanbul-lib-coverage'
import type { Collected, CoverageSession } from '../../dist/index.js'
import { describe, expect, test } from 'vitest'
import { startServerCoverage } from '../../dist/index.js'
import { eventually, isAlive, lineOf, makeProject, statementHits, tempDirs } from './harness.js'
import { missingPythonTools } from './python-support.js'

// Server processes stopped by something else while the server runs (a supervisor, the OOM killer,
// `kill`), read through the session API: a process SIGTERMed keeps everything it ran — also a
// process whose main thread only waits while other threads serve, where Coverage.py 6.5's own
// `sigterm` setting lost the data (coveragepy#1599, fixed in 7.2.3) and where a SystemExit would
// wait forever for a non-daemon thread; a SIGKILLed worker keeps its last checkpoint, and what it
// ran after it is lost and said so. The periodic save is pushed out of the way (an hour), so only
// the paths under test save.

const missing = missingPythonTools(['asgi'])
const track = tempDirs()
const NO_PERIODIC_SAVE = { SERVER_COVERAGE_PY_SAVE_INTERVAL: '3600' }

interface Answer {
  pid: number
}

async function start(dir: string, command: string, url: string): Promise<{ session: CoverageSession; base: string; log: string[] }> {
  const log: string[] = []
  const session = await startServerCoverage({ command, url, cwd: dir, env: NO_PERIODIC_SAVE }, { root: dir, log: (line) => log.push(line) })
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
})
