// 1. Serving overhead: requests/s and CPU per request of the 4-worker Express cluster example,
// bare vs under server-coverage vs plain NODE_V8_COVERAGE vs nyc instrumentation, on each Node.
// Rounds are interleaved (every config once per round, server restarted each time); medians.
import { rmSync } from 'node:fs'
import { nycCopy } from '../lib/app-copy.js'
import { measureServing } from '../lib/load.js'
import { bare, nycInstrumented, plainV8, underServerCoverage, v8Mode } from '../lib/servers.js'
import { fmt, median, ratio, table } from '../lib/stats.js'

export const CONFIGS = ['bare', 'server-coverage', 'NODE_V8_COVERAGE', 'nyc']
/** What other V8 modes would cost (inspector-started precise coverage; nothing written). */
export const V8_MODES = { 'V8 block binary': 'binary', 'V8 function-level': 'function' }

export async function run({ nodes, rounds, seconds, workers = 4, modes = true, log }) {
  const copy = nycCopy()
  const launchers = {
    bare: (node) => bare(node, workers),
    'server-coverage': (node) => underServerCoverage(node, workers),
    NODE_V8_COVERAGE: (node) => plainV8(node, workers),
    nyc: (node) => nycInstrumented(node, workers, copy),
    ...(modes ? Object.fromEntries(Object.entries(V8_MODES).map(([name, mode]) => [name, (node) => v8Mode(node, workers, mode)])) : {}),
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
  }
  const results = {}
  for (const [nodeName, byConfig] of Object.entries(samples)) {
    for (const [config, list] of Object.entries(byConfig)) {
      ;(results[nodeName] ??= {})[config] = {
        rps: median(list.map((s) => s.rps)),
        cpuPerRequestUs: median(list.map((s) => s.cpuPerRequestUs)),
        latencyP50: median(list.map((s) => s.latencyP50)),
        errors: list.reduce((sum, s) => sum + s.errors, 0),
        rounds: list.length,
      }
    }
  }
  return { results, markdown: render(results, { rounds, seconds, workers }) }
}

function render(results, { rounds, seconds, workers }) {
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
        ratio(r.rps / base.rps),
        ratio(r.rps / v8.rps),
        fmt(r.cpuPerRequestUs),
        ratio(r.cpuPerRequestUs / base.cpuPerRequestUs),
        fmt(r.latencyP50, 1),
        String(r.errors),
      ])
    }
  }
  return [
    `Example Express cluster (\`examples/express-cluster/server.js\`, WORKERS=${workers}), \`GET /users/1\`, autocannon 16 connections,`,
    `1 s warm-up + ${seconds} s measured, ${rounds} interleaved rounds (order rotated each round), medians. CPU = user+sys of every`,
    'process of the server\'s group from /proc/<pid>/stat over the measured run, divided by the requests served.',
    '',
    table(['node', 'config', 'req/s', 'vs bare', 'vs NODE_V8_COVERAGE', 'CPU µs/req', 'CPU vs bare', 'p50 ms', 'errors'], rows),
  ].join('\n')
}
