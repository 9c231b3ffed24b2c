// Raw V8 coverage of a real server run, kept in a known folder so every tool reads the same data:
// the server runs under NODE_V8_COVERAGE with our agent, registered to a ControlServer of the
// build; each checkpoint is a short load then a flush (the agent's `v8.takeCoverage()`), and the
// run ends with SIGTERM to the group (the agent turns it into a normal exit, which writes a last file).
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load } from './load.js'
import { AGENT, dist } from './paths.js'
import { cpuDelta, cpuSeconds, groupPids } from './procs.js'
import { spawnServer } from './servers.js'
import { sleep } from './stats.js'

/**
 * Runs `workers` workers of the app in `appDir` with `checkpoints` flushes; returns the raw folder,
 * each flush's wall time and group CPU, and the written files.
 */
export async function generateRaw({ node, appDir, env = {}, workers, checkpoints, loadSeconds = 0.5 }) {
  const { ControlServer } = await dist('launch/control-server.js')
  const base = mkdtempSync(join(tmpdir(), `bench-raw-w${workers}-c${checkpoints}-`))
  const rawDir = join(base, 'v8')
  mkdirSync(rawDir)
  const control = new ControlServer(join(base, 'control.sock'))
  await control.listen()
  const server = await spawnServer({
    node,
    script: join(appDir, 'server.js'),
    cwd: appDir,
    workers,
    env: { ...env, NODE_V8_COVERAGE: rawDir, NODE_OPTIONS: `--require ${JSON.stringify(AGENT)}`, SERVER_COVERAGE_SOCKET: control.socketPath },
  })
  // /health answers once one worker listens: wait for every process to register.
  const deadline = Date.now() + 60_000
  while (control.live.length < workers + 1 && Date.now() < deadline) await sleep(20)
  const flushes = []
  try {
    for (let checkpoint = 1; checkpoint <= checkpoints; checkpoint++) {
      await load(server.url, { seconds: loadSeconds, connections: Math.max(4, workers) })
      const pids = groupPids(server.pgid)
      const before = cpuSeconds(pids)
      const startedAt = performance.now()
      const result = await control.flush(30_000)
      const ms = performance.now() - startedAt
      await sleep(50) // let /proc settle the CPU accounting of the write
      flushes.push({ checkpoint, ms, cpuMs: cpuDelta(before, cpuSeconds(pids)) * 1000, processes: result.flushed.length, unanswered: result.unanswered.length })
    }
  } finally {
    control.sayGoodbye?.()
    await server.stop()
    await control.close()
  }
  const files = readdirSync(rawDir).map((name) => ({ name, size: statSync(join(rawDir, name)).size }))
  return { base, rawDir, flushes, files, processes: workers + 1 }
}
