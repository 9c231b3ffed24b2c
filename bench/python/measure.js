// Requests/s of Python servers under Coverage.py exactly as server-coverage injects it (the env of
// the Python runtime, with a real control socket: every worker registers and saves — rotates its
// data file — every 5 s), vs. untraced. wrk on loopback (-t2 -c8), interleaved rounds, medians, ratio.
// - uwsgi: 4 workers x 2 threads, the examples/uwsgi-flask app unchanged, GET /hello;
// - uvicorn: 4 workers (spawned), the examples/fastapi-uvicorn app unchanged, GET /quote/apple
//   (an async route with a dependency, a pydantic model and a background task).
// Used by bench/python/run.js (on its own) and bench/suites/python.js (in `npm run bench`).
import { execFile, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ControlServer } from '../../dist/launch/control-server.js'
import { resolveServerOptions } from '../../dist/options.js'
import { createPythonRuntime } from '../../dist/runtimes/python/index.js'

export const TARGETS = {
  uwsgi: {
    title: 'uWSGI, 4 workers × 2 threads (Flask)',
    app: 'uwsgi-flask',
    command: 'uwsgi --ini run.ini',
    spawn: (port) => ['uwsgi', ['--ini', 'run.ini', '--disable-logging'], { PORT: String(port), UWSGI_DIE_ON_TERM: '1' }],
    path: '/hello',
    wrk: [],
  },
  uvicorn: {
    title: 'uvicorn, 4 workers (FastAPI)',
    app: 'fastapi-uvicorn',
    command: '/usr/bin/python3 -m uvicorn app.main:app --workers 4 --port {port}',
    spawn: (port) => ['/usr/bin/python3', ['-m', 'uvicorn', 'app.main:app', '--workers', '4', '--port', String(port), '--no-access-log'], {}],
    path: '/quote/apple?quantity=2',
    // uvicorn 0.17's h11 protocol writes headers and body apart: on a kept-alive connection every
    // request then waits for the peer's delayed ACK (~40 ms, 180 req/s whatever the CPU does). A
    // connection per request (what supertest does) measures the server instead.
    wrk: ['-H', 'Connection: close'],
  },
}

const run = promisify(execFile)
const port = 18765

/** Why the Python rows cannot be measured here (a missing program), or undefined when they can. */
export function pythonUnavailable() {
  for (const [program, args] of [['uwsgi', ['--version']], ['wrk', ['--version']], ['/usr/bin/python3', ['-c', 'import uvicorn, fastapi, flask, coverage']]]) {
    try {
      execFileSync(program, args, { stdio: 'ignore' })
    } catch (error) {
      // wrk --version exits 1 after printing its version.
      if (program === 'wrk' && error.status === 1) continue
      return `${program} ${args.join(' ')} failed`
    }
  }
  return undefined
}

const appDir = (target) => new URL(`../../examples/${target.app}/`, import.meta.url).pathname.replace(/\/$/, '')

/** The environment the Python runtime gives this server, and the control server its workers register with. */
async function coverageEnv(work, target, round) {
  const dir = join(work, `${target.app}-${round}`)
  const control = new ControlServer(join(work, `control-${target.app}-${round}.sock`))
  await control.listen()
  const options = resolveServerOptions({ command: target.command, cwd: appDir(target) }, appDir(target))
  const runtime = await createPythonRuntime({ options, dir, socketPath: control.socketPath, coverage: true, log: () => {} })
  return { env: runtime.env, control }
}

async function measure(work, target, traced, round, seconds) {
  const coverage = traced ? await coverageEnv(work, target, round) : undefined
  const [program, args, extraEnv] = target.spawn(port)
  const env = { ...process.env, ...extraEnv, ...coverage?.env }
  const child = spawn(program, args, { cwd: appDir(target), env, detached: true, stdio: 'ignore' })
  try {
    const url = `http://127.0.0.1:${port}${target.path}`
    for (let i = 0; i < 100; i++) {
      if (await fetch(url).then((r) => r.ok, () => false)) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await run('wrk', ['-t2', '-c8', '-d1s', ...target.wrk, url]) // warm-up (and every worker up)
    const { stdout } = await run('wrk', ['-t2', '-c8', `-d${seconds}s`, ...target.wrk, url])
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1])
  } finally {
    process.kill(-child.pid, 'SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
    await coverage?.control.close()
  }
}

/** Interleaved rounds (untraced, traced, …) per target: { [name]: { untraced: number[], traced: number[] } }. */
export async function measurePython({ names = Object.keys(TARGETS), rounds = 5, seconds = 4, log = () => {} } = {}) {
  const work = mkdtempSync(join(tmpdir(), 'bench-python-'))
  const results = {}
  try {
    for (const name of names) {
      const target = TARGETS[name]
      if (!target) throw new Error(`unknown target ${name}: ${Object.keys(TARGETS).join(', ')} or all`)
      const byConfig = (results[name] = { untraced: [], traced: [] })
      for (let round = 0; round < rounds; round++) {
        byConfig.untraced.push(await measure(work, target, false, round, seconds))
        byConfig.traced.push(await measure(work, target, true, round, seconds))
        log(`python ${name} round ${round + 1}: untraced ${byConfig.untraced.at(-1)} req/s, traced ${byConfig.traced.at(-1)} req/s`)
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return results
}
