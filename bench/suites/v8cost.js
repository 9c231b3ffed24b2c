// 6. Why V8's counters cost what they cost on Node 24: one worker, pinned, the same server, V8
// flags that would matter if the cost came from a compiler tier (Maglev) or from inlining budgets
// (block counters make bytecode bigger), against the bare server, nyc and server-coverage's counting on load.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nycCopy, plainCopy } from '../lib/app-copy.js'
import { measureServing } from '../lib/load.js'
import { pinned } from '../lib/pin.js'
import { bare, countingOnLoad, nycInstrumented, plainV8, spawnServer } from '../lib/servers.js'
import { fmt, median, ratio, table } from '../lib/stats.js'

const INLINING = ['--max-inlined-bytecode-size=1500', '--max-inlined-bytecode-size-cumulative=4000']

function withFlags(nodeArgs, coverage) {
  return async (node, workers, { cwd, pin }) => {
    const dir = coverage ? mkdtempSync(join(tmpdir(), 'bench-v8-')) : undefined
    const server = await spawnServer({ node, script: join(cwd, 'server.js'), cwd, workers, env: dir ? { NODE_V8_COVERAGE: dir } : {}, pin, nodeArgs })
    return {
      ...server,
      async stop() {
        await server.stop()
        if (dir) rmSync(dir, { recursive: true, force: true })
      },
    }
  }
}

export async function run({ nodes, rounds, seconds, log }) {
  const plain = plainCopy()
  const nyc = nycCopy()
  const pin = pinned()
  const launchers = {
    bare: (node, workers, options) => bare(node, workers, options),
    NODE_V8_COVERAGE: (node, workers, options) => plainV8(node, workers, options),
    'bare --no-maglev': withFlags(['--no-maglev'], false),
    'NODE_V8_COVERAGE --no-maglev': withFlags(['--no-maglev'], true),
    'NODE_V8_COVERAGE, bigger inlining budget': withFlags(INLINING, true),
    nyc: (node, workers) => nycInstrumented(node, workers, nyc, { pin }),
    "server-coverage, counting: 'load'": (node, workers, options) => countingOnLoad(node, workers, options),
  }
  const configsFor = (name) => (name === 'node24' ? Object.keys(launchers) : ['bare', 'NODE_V8_COVERAGE', 'nyc', "server-coverage, counting: 'load'"])
  const samples = {}
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [name, node] of Object.entries(nodes)) {
        const configs = configsFor(name)
        for (const config of configs.map((_, i) => configs[(i + round - 1) % configs.length])) {
          const server = await launchers[config](node, 1, { cwd: plain, pin })
          try {
            const sample = await measureServing(server, { seconds })
            ;((samples[name] ??= {})[config] ??= []).push(sample)
            log(`v8 cost ${name} round ${round} ${config}: ${fmt(sample.cpuPerRequestUs)} µs CPU/req`)
          } finally {
            await server.stop()
          }
        }
      }
    }
  } finally {
    rmSync(plain, { recursive: true, force: true })
    rmSync(nyc, { recursive: true, force: true })
  }
  const results = {}
  const rows = []
  for (const [name, byConfig] of Object.entries(samples)) {
    for (const [config, list] of Object.entries(byConfig)) (results[name] ??= {})[config] = { rps: median(list.map((s) => s.rps)), cpuPerRequestUs: median(list.map((s) => s.cpuPerRequestUs)) }
    const base = results[name].bare
    for (const [config, r] of Object.entries(results[name])) rows.push([name, config, fmt(r.cpuPerRequestUs), ratio(r.cpuPerRequestUs / base.cpuPerRequestUs), fmt(r.rps)])
  }
  const markdown = [
    `One worker (WORKERS=1), the same copy of the example, ${pin ? 'pinned as in section 1' : 'not pinned'}, 32 connections, 1 s warm-up + ${seconds} s, ${rounds} interleaved rounds, medians.`,
    `"bigger inlining budget" = \`${INLINING.join(' ')}\` (block counters add bytecode, which could push functions over TurboFan's inlining limits).`,
    '',
    table(['node', 'config', 'CPU µs/req', 'vs bare', 'req/s'], rows),
  ].join('\n')
  return { results, markdown }
}
