import type { FileCoverageData } from 'istanbul-lib-coverage'
import type { Collected } from '../../dist/index.js'
import { describe, expect, test } from 'vitest'
import { startServerCoverage } from '../../dist/index.js'
import { eventually, isAlive, lineOf, makeProject, statementHits, tempDirs } from './harness.js'
import { missingPythonTools, PYTHON } from './python-support.js'

// Every read of a Python server returns what ran since the previous one (each save of a process
// is a data file of its own, read once), through the session API as watch mode and the CLI use
// it: two collects, a worker SIGKILLed after a checkpoint, and the worker uWSGI respawns for it.

const missing = missingPythonTools(['uwsgi'])
const track = tempDirs()

/** run.py's line per worker number: `seen = 'worker one'` … (`four` for 4 and up). */
const WORKER_WORDS = ['one', 'two', 'three', 'four']

interface Hello {
  pid: number
  worker: number
}

describe.skipIf(missing.length > 0)('Python reads are deltas', () => {
  test('uWSGI 4x2, session API: each collect reports only what ran since the previous one; a killed worker keeps its checkpoint', async () => {
    const dir = track(makeProject('uwsgi-flask'))
    const log: string[] = []
    const session = await startServerCoverage({ command: 'uwsgi --ini run.ini', url: '/hello', cwd: dir }, { root: dir, log: (line) => log.push(line) })
    const base = session.urls.server!
    const get = async (path: string): Promise<Response> => {
      const response = await fetch(base + path, { headers: { connection: 'close' } })
      expect(response.status).toBe(200)
      return response
    }
    const hello = async (): Promise<Hello> => (await (await get('/hello')).json()) as Hello
    const runPy = (collected: Collected): FileCoverageData => {
      const file = collected.data[`${dir}/run.py`] as FileCoverageData | undefined
      if (!file) throw new Error(`run.py is not in this read: ${Object.keys(collected.data).join(', ')}\n${log.join('\n')}`)
      expect(Object.values(file.s).filter((hits) => hits !== 0 && hits !== 1)).toEqual([]) // Coverage.py: ran or not
      return file
    }
    const at = (file: FileCoverageData, marker: string): number | undefined => statementHits(file, lineOf(dir, 'run.py', marker))
    try {
      // 1: the boot (the app's import, run once in the master), the readiness probe's /hello, and /.
      await get('/')
      const first = runPy(await session.collect())
      expect([at(first, "BOOT_MESSAGE = 'import-time line'"), at(first, "return 'index'"), at(first, 'return jsonify(')]).toEqual([1, 1, 1])

      // 2: only /hello ran since; the import-time lines, inherited by every worker, are not read again.
      await hello()
      const second = runPy(await session.collect())
      expect([at(second, "BOOT_MESSAGE = 'import-time line'"), at(second, 'app = Flask(__name__)'), at(second, "return 'index'"), at(second, 'return jsonify(')]).toEqual([0, 0, 0, 1])

      // 3: a worker serves /hello, saves at a checkpoint, then is SIGKILLed (OOM killer, kill -9):
      // the line only that worker number runs is in the read, from its checkpoint.
      const victim = await hello()
      await session.checkpoint()
      process.kill(victim.pid, 'SIGKILL')
      expect(await eventually(() => !isAlive(victim.pid), 10_000)).toBe(true)
      const third = runPy(await session.collect())
      expect(at(third, `seen = 'worker ${WORKER_WORDS[victim.worker - 1]}'`)).toBe(1)
      expect(log.join('\n')).toContain(`process ${victim.pid} (uwsgi) of "server" exited without saving its coverage (killed by a signal?)`)

      // 4: the worker uWSGI respawned (same number, new pid) does not report the master's
      // import-time lines again.
      let respawned: Hello | undefined
      for (let attempt = 0; attempt < 400 && !respawned; attempt++) {
        respawned = (await Promise.all(Array.from({ length: 8 }, hello))).find((a) => a.worker === victim.worker && a.pid !== victim.pid)
      }
      expect(respawned, 'the worker was respawned').toBeDefined()
      const fourth = runPy(await session.collect())
      expect([at(fourth, "BOOT_MESSAGE = 'import-time line'"), at(fourth, 'app = Flask(__name__)'), at(fourth, 'return jsonify(')]).toEqual([0, 0, 1])
    } finally {
      await session.stop()
    }
  })
})

describe.skipIf(missing.length > 0)('Python registration', () => {
  test('a process is registered with the collector before its app code runs: one that leaves at once (os._exit) was seen', async () => {
    // The registration used to happen in the agent's own thread, which a busy worker may not let run
    // before it serves its first request: that worker then missed the next flush (seen on 2 loaded cores).
    const { mkdtempSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { spawnSync } = await import('node:child_process')
    const { ControlServer } = await import('../../dist/launch/control-server.js')
    const { resolveServerOptions } = await import('../../dist/options.js')
    const { createPythonRuntime } = await import('../../dist/runtimes/python/index.js')
    const dir = mkdtempSync(join(tmpdir(), 'sc-py-register-'))
    const control = new ControlServer(join(dir, 'control.sock'))
    await control.listen()
    try {
      const command = `${PYTHON} -c "import os; os._exit(0)"`
      const options = resolveServerOptions({ command, cwd: dir }, dir)
      const runtime = await createPythonRuntime({ options, dir: join(dir, 'state'), socketPath: control.socketPath, coverage: true, log: () => {} })
      const pids: number[] = []
      for (let run = 0; run < 20; run++) {
        const child = spawnSync(PYTHON, ['-c', 'import os; print(os.getpid(), flush=True); os._exit(0)'], { cwd: dir, env: { ...process.env, ...runtime.env }, encoding: 'utf8' })
        expect(child.status, child.stderr).toBe(0)
        pids.push(Number(child.stdout.trim()))
      }
      const registered = (): number[] => pids.filter((pid) => control.processes.some((agent) => agent.pid === pid))
      await eventually(() => registered().length === pids.length, 5000)
      expect(registered()).toEqual(pids)
    } finally {
      await control.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
