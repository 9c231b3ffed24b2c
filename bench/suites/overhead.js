// 1. Serving overhead: requests/s and CPU per request of the 4-worker Express cluster example,
// bare vs under server-coverage vs plain NODE_V8_COVERAGE vs nyc instrumentation, on each Node.
// Every row runs the same server: a copy of the example in a temp folder (nyc's instrumented the
// same way), 4 workers, the same environment; the server's group pinned to one core and the load
// generator, in its own process, to the other (lib/pin.js). Rounds are interleaved (every config
// once per round, server restarted each time, order rotated); medians.
import { rmSync } from 'node:fs'
import { nycCopy, plainCopy } from '../lib/app-copy.js'
import { measureServing } from '../lib/load.js'
import { pinned } from '../lib/pin.js'
import { bare, nycInstrumented, plainV8, underServerCoverage, v8Mode } from '../lib/servers.js'
import { fmt, median, ratio, table } from '../lib/stats.js'

export const CONFIGS = ['bare', 'server-coverage', 'NODE_V8_COVERAGE', 'nyc']
/** What other V8 modes would cost (inspector-started precise coverage; nothing written). */
export const V8_MODES = { 'V8 block binary': 'binary', 'V8 function-level': 'function' }

export async function run({ nodes, rounds, seconds, workers = 4, modes = true, extra = {}, log }) {
  const copy = nycCopy()
  const plain = plainCopy()
  const pin = pinned()
  const launchers = {
    bare: (node) => bare(node, workers, { cwd: plain, pin }),
    'server-coverage': (node) => underServerCoverage(node, workers, { cwd: plain, pin }),
    NODE_V8_COVERAGE: (node) => plainV8(node, workers, { cwd: plain, pin }),
    nyc: (node) => nycInstrumented(node, workers, copy, { pin }),
    ...(modes ? Object.fromEntries(Object.entries(V8_MODES).map(([name, mode]) => [name, (node) => v8Mode(node, workers, mode, { cwd: plain, pin })])) : {}),
    ...Object.fromEntries(Object.entries(extra).map(([name, launch]) => [name, (node) => launch(node, workers, { cwd: plain, pin })])),
  }
  const configs = Object.keys(launchers)
  const samples = {}
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [nodeName, node] of Object.entries(nodes)) {
        // Rotate the order each round so no config always runs first (warm caches, thermal).
        const order = configs.map((_, i) => configs[(i + round - 1) % configs.length])
        for (const config of order) {
          const server = await launchers[config](node)
          try {
            const sample = await measureServing(server, { seconds })
            ;((samples[nodeName] ??= {})[config] ??= []).push(sample)
            log(`overhead ${nodeName} round ${round} ${config}: ${fmt(sample.rps)} req/s, ${fmt(sample.cpuPerRequestUs)} µs CPU/req`)
          } finally {
            await server.stop()
          }
        }
      }
    }
  } finally {
    rmSync(copy, { recursive: true, force: true })
    rmSync(plain, { recursive: true, force: true })
  }
  const results = {}
  for (const [nodeName, byConfig] of Object.entries(samples)) {
    for (const [config, list] of Object.entries(byConfig)) {
      ;(results[nodeName] ??= {})[config] = {
        rps: median(list.map((s) => s.rps)),
        rpsRounds: list.map((s) => s.rps),
        cpuPerRequestUs: median(list.map((s) => s.cpuPerRequestUs)),
        latencyP50: median(list.map((s) => s.latencyP50)),
        errors: list.reduce((sum, s) => sum + s.errors, 0),
        rounds: list.length,
      }
    }
  }
  return { results, markdown: render(results, { rounds, seconds, workers, pin }) }
}

function render(results, { rounds, seconds, workers, pin }) {
  const rows = []
  for (const [nodeName, byConfig] of Object.entries(results)) {
    const base = byConfig.bare
    const v8 = byConfig.NODE_V8_COVERAGE
    for (const config of Object.keys(byConfig)) {
      const r = byConfig[config]
      if (!r) continue
      rows.push([
        nodeName,
        config,
        fmt(r.rps),
        `${fmt(Math.min(...r.rpsRounds))}–${fmt(Math.max(...r.rpsRounds))}`,
        ratio(r.rps / base.rps),
        ratio(r.rps / v8.rps),
        ratio(r.rps / byConfig.nyc.rps),
        fmt(r.cpuPerRequestUs),
        ratio(r.cpuPerRequestUs / base.cpuPerRequestUs),
        fmt(r.latencyP50, 1),
        String(r.errors),
      ])
    }
  }
  return [
    `Example Express cluster (\`examples/express-cluster\`: \`server.js\` + \`src/app.js\`, copied to a temp folder for every row, nyc's`,
    `instrumented the same way), WORKERS=${workers}, \`GET /users/1\`, autocannon 32 connections from its own process,`,
    `1 s warm-up + ${seconds} s measured, ${rounds} interleaved rounds (order rotated each round), medians. ${pin ? 'The server\'s process group runs on CPU 1 and the load generator on CPU 0 (`taskset`).' : 'Not pinned (fewer than 2 cores or no `taskset`).'}`,
    'CPU = user+sys of every process of the server\'s group from /proc/<pid>/stat over the measured run, divided by the requests served.',
    '',
    table(['node', 'config', 'req/s', 'req/s rounds (min–max)', 'vs bare', 'vs NODE_V8_COVERAGE', 'vs nyc', 'CPU µs/req', 'CPU vs bare', 'p50 ms', 'errors'], rows),
  ].join('\n')
}
