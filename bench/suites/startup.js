// 3. Start-up latency: spawn → the readiness probe (GET /health) answers 2xx, polled every 10 ms
// (the session's own interval) for every config. For server-coverage the time is the whole
// `startServerCoverage()` call (temp dir, control socket, spawn, probe).
import { rmSync } from 'node:fs'
import { dist, EXAMPLE } from '../lib/paths.js'
import { bare, countingOnLoad, plainV8, underServerCoverage } from '../lib/servers.js'
import { fmt, median, ratio, table } from '../lib/stats.js'

export const LOAD = "server-coverage, counting: 'load'"
export const LOAD_COLD = "server-coverage, counting: 'load', cache emptied first"
const CONFIGS = ['bare', 'NODE_V8_COVERAGE', 'server-coverage', LOAD, LOAD_COLD]

export async function run({ nodes, rounds, workers = 4, log }) {
  // Counting on load caches instrumented code in the nearest node_modules (the repository's, for the
  // example): the plain row runs as every run after the first does, the other one as a first run.
  const { instrumentCache } = await dist('runtimes/node/counting-load.js')
  const cache = instrumentCache(EXAMPLE)?.dir
  const coldCountingOnLoad = (node) => {
    if (cache) rmSync(cache, { recursive: true, force: true })
    return countingOnLoad(node, workers)
  }
  const launchers = { bare: (node) => bare(node, workers), NODE_V8_COVERAGE: (node) => plainV8(node, workers), 'server-coverage': (node) => underServerCoverage(node, workers), [LOAD]: (node) => countingOnLoad(node, workers), [LOAD_COLD]: coldCountingOnLoad }
  const samples = {}
  for (let round = 1; round <= rounds; round++) {
    for (const [nodeName, node] of Object.entries(nodes)) {
      const order = CONFIGS.map((_, i) => CONFIGS[(i + round - 1) % CONFIGS.length])
      for (const config of order) {
        const server = await launchers[config](node)
        await server.stop()
        ;((samples[nodeName] ??= {})[config] ??= []).push(server.readyMs)
        log(`startup ${nodeName} round ${round} ${config}: ${fmt(server.readyMs)} ms`)
      }
    }
  }
  const rows = []
  const results = {}
  for (const [nodeName, byConfig] of Object.entries(samples)) {
    const base = median(byConfig.bare)
    for (const config of CONFIGS) {
      const ms = median(byConfig[config])
      ;(results[nodeName] ??= {})[config] = ms
      rows.push([nodeName, config, fmt(ms), ratio(ms / base), byConfig[config].map((v) => fmt(v)).join(', ')])
    }
  }
  const markdown = [
    `Example Express cluster, WORKERS=${workers}: spawn → \`GET /health\` answers (the first worker listens), polled every 10 ms.`,
    `${rounds} interleaved rounds, medians. Counting on load pays at start-up what it saves while serving: every process`,
    'instruments the included files as they load (on Node 20 also through a module-hooks thread), or reads what an earlier',
    `process or run instrumented from its cache (\`node_modules/.cache/server-coverage\`${cache ? '' : ': none here'}); the "cache emptied first" row is a first run.`,
    '',
    table(['node', 'config', 'ready ms', 'vs bare', 'rounds (ms)'], rows),
  ].join('\n')
  return { results, markdown }
}
