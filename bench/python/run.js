// Requests/s of Python servers under Coverage.py exactly as server-coverage injects it (the env of
// the Python runtime, with a real control socket: every worker registers and saves — rotates its
// data file — every 5 s), vs. untraced. wrk on loopback (-t2 -c8), interleaved rounds, medians, ratio.
// - uwsgi: 4 workers x 2 threads, the examples/uwsgi-flask app unchanged, GET /hello;
// - uvicorn: 4 workers (spawned), the examples/fastapi-uvicorn app unchanged, GET /quote/apple
//   (an async route with a dependency, a pydantic model and a background task).
// Usage: npm run build && node bench/python/run.js [uwsgi|uvicorn|all=all] [rounds=5] [seconds=4]
import { execFile, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ControlServer } from '../../dist/launch/control-server.js'
import { resolveServerOptions } from '../../dist/options.js'
import { createPythonRuntime } from '../../dist/runtimes/python/index.js'

const TARGETS = {
  uwsgi: {
    app: 'uwsgi-flask',
    command: 'uwsgi --ini run.ini',
    spawn: (port) => ['uwsgi', ['--ini', 'run.ini', '--disable-logging'], { PORT: String(port), UWSGI_DIE_ON_TERM: '1' }],
    path: '/hello',
    wrk: [],
  },
  uvicorn: {
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
const [which = 'all', roundsArg, secondsArg] = process.argv.slice(2)
const rounds = Number(roundsArg ?? 5)
const seconds = Number(secondsArg ?? 4)
const work = mkdtempSync(join(tmpdir(), 'bench-python-'))
const port = 18765

const appDir = (target) => new URL(`../../examples/${target.app}/`, import.meta.url).pathname.replace(/\/$/, '')

/** The environment the Python runtime gives this server, and the control server its workers register with. */
async function coverageEnv(target, round) {
  const dir = join(work, `${target.app}-${round}`)
  const control = new ControlServer(join(work, `control-${target.app}-${round}.sock`))
  await control.listen()
  const options = resolveServerOptions({ command: target.command, cwd: appDir(target) }, appDir(target))
  const runtime = await createPythonRuntime({ options, dir, socketPath: control.socketPath, coverage: true, log: () => {} })
  return { env: runtime.env, control }
}

async function measure(target, traced, round) {
  const coverage = traced ? await coverageEnv(target, round) : undefined
  const [program, args, extraEnv] = target.spawn(port)
  const env = { ...process.env, ...extraEnv, ...coverage?.env }
  const child = spawn(program, args, { cwd: appDir(target), env, detached: true, stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}${target.path}`
  for (let i = 0; i < 100; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await run('wrk', ['-t2', '-c8', '-d1s', ...target.wrk, url]) // warm-up (and every worker up)
  const { stdout } = await run('wrk', ['-t2', '-c8', `-d${seconds}s`, ...target.wrk, url])
  process.kill(-child.pid, 'SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
  await coverage?.control.close()
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1])
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
try {
  for (const name of which === 'all' ? Object.keys(TARGETS) : [which]) {
    const target = TARGETS[name]
    if (!target) throw new Error(`unknown target ${name}: ${Object.keys(TARGETS).join(', ')} or all`)
    const results = { untraced: [], traced: [] }
    for (let round = 0; round < rounds; round++) {
      results.untraced.push(await measure(target, false, round))
      results.traced.push(await measure(target, true, round))
    }
    const u = median(results.untraced)
    const t = median(results.traced)
    console.log(`${name} (${target.path})`)
    console.log(`  untraced req/s: ${results.untraced.join(', ')} → median ${u}`)
    console.log(`  traced req/s:   ${results.traced.join(', ')} → median ${t}`)
    console.log(`  ratio traced/untraced: ${(t / u).toFixed(2)}`)
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
console.log(`machine: nproc ${execFileSync('nproc').toString().trim()}, ${execFileSync('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).toString().trim()}, load ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}`)
