// Requests/s of uWSGI (4 workers x 2 threads: the examples/uwsgi-flask app, unchanged) under
// Coverage.py exactly as server-coverage injects it (the env of the Python runtime, with a real
// control socket: every worker registers and saves — rotates its data file — every 5 s), vs.
// untraced. wrk on loopback (-t2 -c8), interleaved rounds, medians, ratio.
// Usage: npm run build && node bench/python/run.js [rounds=5] [seconds=4]
import { execFile, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ControlServer } from '../../dist/launch/control-server.js'
import { resolveServerOptions } from '../../dist/options.js'
import { createPythonRuntime } from '../../dist/runtimes/python/index.js'

const run = promisify(execFile)
const rounds = Number(process.argv[2] ?? 5)
const seconds = Number(process.argv[3] ?? 4)
const app = new URL('../../examples/uwsgi-flask/', import.meta.url).pathname.replace(/\/$/, '')
const work = mkdtempSync(join(tmpdir(), 'bench-python-'))
const port = 18765

/** The environment the Python runtime gives this server, and the control server its workers register with. */
async function coverageEnv(round) {
  const dir = join(work, String(round))
  const control = new ControlServer(join(work, `control-${round}.sock`))
  await control.listen()
  const options = resolveServerOptions({ command: 'uwsgi --ini run.ini', cwd: app }, app)
  const runtime = await createPythonRuntime({ options, dir, socketPath: control.socketPath, coverage: true, log: () => {} })
  return { env: runtime.env, control }
}

async function measure(traced, round) {
  const coverage = traced ? await coverageEnv(round) : undefined
  const env = { ...process.env, PORT: String(port), UWSGI_DIE_ON_TERM: '1', ...coverage?.env }
  const child = spawn('uwsgi', ['--ini', 'run.ini', '--disable-logging'], { cwd: app, env, detached: true, stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${port}/hello`).then((r) => r.ok, () => false)) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await run('wrk', ['-t2', '-c8', '-d1s', `http://127.0.0.1:${port}/hello`]) // warm-up
  const { stdout } = await run('wrk', ['-t2', '-c8', `-d${seconds}s`, `http://127.0.0.1:${port}/hello`])
  process.kill(-child.pid, 'SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
  await coverage?.control.close()
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1])
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const results = { untraced: [], traced: [] }
try {
  for (let round = 0; round < rounds; round++) {
    results.untraced.push(await measure(false, round))
    results.traced.push(await measure(true, round))
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
const u = median(results.untraced)
const t = median(results.traced)
console.log(`untraced req/s: ${results.untraced.join(', ')} → median ${u}`)
console.log(`traced req/s:   ${results.traced.join(', ')} → median ${t}`)
console.log(`ratio traced/untraced: ${(t / u).toFixed(2)}`)
console.log(`machine: nproc ${execFileSync('nproc').toString().trim()}, ${execFileSync('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).toString().trim()}`)
