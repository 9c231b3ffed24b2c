// 3b. Start-up of one process: the Express example's `src/app.js` imported and `createApp()` called,
// spawn → exit, under each config. A 4-worker cluster's time to ready (startup.js) moves by ±15 %
// between rounds on 2 cores (5 processes and the probe share them); one process at a time shows
// what each config adds to a process, which is what start-up is made of.
//
// The agent's environment is the one a real session gives its server: a session is started per
// config with a tiny server that writes its environment to a file and answers /health, and stays up
// (its control socket live) while the measured processes, started with that environment, register
// with it, load the app and exit.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dist, EXAMPLE } from '../lib/paths.js'
import { fmt, median, ratio, table } from '../lib/stats.js'
import { LOAD } from './startup.js'

const APP = join(EXAMPLE, 'src', 'app.js')
export const CONFIGS = ['bare', 'NODE_V8_COVERAGE', 'agent only (no coverage)', 'server-coverage', LOAD]

/** Starts a session whose server only reports its environment; returns { env, stop }. */
async function sessionEnv(node, counting, dir) {
  const { startServerCoverage } = await dist('index.js')
  const script = join(dir, `env-${counting}.cjs`)
  const out = join(dir, `env-${counting}.json`)
  writeFileSync(script, `require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))\nrequire('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')\n`)
  const session = await startServerCoverage({ command: `${node} ${script}`, cwd: EXAMPLE, url: '/health', counting, env: { NODE_OPTIONS: '' } }, { root: EXAMPLE, log: () => {} })
  const env = JSON.parse(readFileSync(out, 'utf8'))
  delete env.PORT
  return { env, stop: () => session.stop() }
}

function timeProcess(node, env) {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now()
    const child = spawn(node, ['--input-type=module', '-e', `const { createApp } = await import(${JSON.stringify(APP)}); createApp()`], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - startedAt) : reject(new Error(`start-up per process: exit ${code}: ${stderr.slice(-500)}`))))
  })
}

export async function run({ nodes, rounds, log }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-startup-process-'))
  const samples = {}
  try {
    for (const [nodeName, node] of Object.entries(nodes)) {
      const v8 = await sessionEnv(node, 'v8', dir)
      const load = await sessionEnv(node, 'load', dir)
      try {
        const base = { ...process.env, NODE_OPTIONS: '' }
        const envs = {
          bare: base,
          NODE_V8_COVERAGE: { ...base, NODE_V8_COVERAGE: join(dir, `plain-${nodeName}`) },
          'agent only (no coverage)': Object.fromEntries(Object.entries(v8.env).filter(([key]) => key !== 'NODE_V8_COVERAGE')),
          'server-coverage': v8.env,
          [LOAD]: load.env,
        }
        // One unmeasured run each: the instrument cache is filled as a first run would fill it.
        for (const config of CONFIGS) await timeProcess(node, envs[config])
        for (let round = 1; round <= rounds; round++) {
          for (const config of CONFIGS.map((_, i) => CONFIGS[(i + round - 1) % CONFIGS.length])) {
            ;((samples[nodeName] ??= {})[config] ??= []).push(await timeProcess(node, envs[config]))
          }
        }
        log(`startup per process ${nodeName}: ${CONFIGS.map((config) => `${config} ${fmt(median(samples[nodeName][config]))}`).join(', ')} ms`)
      } finally {
        await v8.stop()
        await load.stop()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const rows = []
  const results = {}
  for (const [nodeName, byConfig] of Object.entries(samples)) {
    const bare = median(byConfig.bare)
    for (const config of CONFIGS) {
      const ms = median(byConfig[config])
      ;(results[nodeName] ??= {})[config] = ms
      const sorted = [...byConfig[config]].sort((a, b) => a - b)
      rows.push([nodeName, config, fmt(ms), ratio(ms / bare), `${fmt(sorted[Math.floor(sorted.length / 4)])}–${fmt(sorted[Math.floor((3 * sorted.length) / 4)])}`])
    }
  }
  const markdown = [
    `One process: the example's \`src/app.js\` imported and \`createApp()\` called, spawn → exit; ${rounds} interleaved rounds`,
    '(after one unmeasured run each), medians. The agent runs with the environment a real session gives its server, its',
    'control socket live; counting on load reads what it instrumented from its cache, as every run after the first does.',
    '',
    table(['node', 'config', 'ms', 'vs bare', 'middle half of rounds (ms)'], rows),
  ].join('\n')
  return { results, markdown }
}
