// 2. Teardown latency.
// A. Live, end to end: a session with 1/4/16 workers after 1 s of load; time collect() (flush,
//    read, filter, merge, convert) and stop() (SIGTERM, every process writes its last file and exits).
// B. The same raw V8 data fed to server-coverage's collection, `c8 report` and monocart, each as a
//    fresh child process (wall time includes Node start-up and module loading for all three).
// Scopes: "app" = server.js + src/** (2 files); "wide" = also express and its whole dependency
// tree, copied to libs/ (see lib/app-copy.js) so no tool drops it as node_modules.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { countReportFiles, runCollector } from '../lib/child.js'
import { cpuDelta, groupPids, runNs } from '../lib/procs.js'
import { load } from '../lib/load.js'
import { BENCH, BIN } from '../lib/paths.js'
import { dist } from '../lib/paths.js'
import { spawnServer, underServerCoverage } from '../lib/servers.js'
import { fmt, median, ratio, table } from '../lib/stats.js'

export const SCOPES = { app: ['server.js', 'src/**'], wide: ['**'] }
/**
 * Ours three times: with no plan store (a CI job without a cache folder; the wide copy has no
 * node_modules), a first run (its folder of stored plans emptied first: it parses every file and
 * stores the plans) and a run after an earlier one (plans read from disk: no parse). c8 and
 * monocart keep nothing between runs.
 */
export const FIRST = 'server-coverage, first run (plans stored)'
export const WARM = 'server-coverage, plans from an earlier run'
const TOOLS = ['server-coverage', FIRST, WARM, 'c8 report', 'monocart']
/** The live rows: both scopes with V8's counters, and the app scope counted on load (a flush writes only its counters). */
const LOAD_SCOPE = "app, counting: 'load'"
/** The floor: the same server without coverage, its processes leaving through process.exit on SIGTERM. */
const FLOOR_SCOPE = 'no coverage (floor): exit on SIGTERM'
const LIVE_VARIANTS = [
  { scope: 'app', include: SCOPES.app, counting: 'v8' },
  { scope: 'wide', include: SCOPES.wide, counting: 'v8' },
  { scope: LOAD_SCOPE, include: SCOPES.app, counting: 'load' },
]

/** A: live sessions. */
export async function runLive({ node, wide, workersList, rounds, log }) {
  const samples = {}
  const { signalGroup, waitForGroupExit } = await dist('launch/process-group.js')
  for (let round = 1; round <= rounds; round++) {
    for (const workers of workersList) {
      // The floor first: the bare server's own stop, waited for exactly as the session waits.
      const bare = await spawnServer({ node, script: join(wide.dir, 'server.js'), cwd: wide.dir, workers, env: { ...wide.env, NODE_OPTIONS: `--require ${JSON.stringify(join(BENCH, 'lib', 'exit-on-sigterm.cjs'))}` } })
      await load(bare.url, { seconds: 1, connections: Math.max(4, workers) })
      const f0 = performance.now()
      signalGroup(bare.pgid, 'SIGTERM')
      const left = await waitForGroupExit(bare.pgid, Date.now() + 10_000)
      const floorMs = performance.now() - f0
      await bare.stop('SIGKILL')
      if (left.length > 0) throw new Error(`teardown floor: ${left.length} process(es) of the bare server did not exit on SIGTERM`)
      ;((samples[workers] ??= {})[FLOOR_SCOPE] ??= []).push({ collectMs: 0, stopMs: floorMs, totalMs: floorMs, serverCpuMs: 0, collectorCpuMs: 0, files: 0, processes: workers + 1 })
      log(`teardown live round ${round} ${workers}w floor: stop ${fmt(floorMs)} ms`)
      for (const { scope, include, counting } of LIVE_VARIANTS) {
        const server = await underServerCoverage(node, workers, { cwd: wide.dir, include, env: wide.env, counting })
        try {
          await load(server.url, { seconds: 1, connections: Math.max(4, workers) })
        } catch (error) {
          await server.stop()
          throw error
        }
        // CPU of the collect: every server process (exact run time) and the collector itself.
        const before = runNs(groupPids(server.pgid))
        const ownBefore = process.cpuUsage()
        const t0 = performance.now()
        const collected = await server.session.collect()
        const t1 = performance.now()
        const ownCpu = process.cpuUsage(ownBefore)
        const serverCpuMs = cpuDelta(before, runNs(before.keys())) / 1e6
        await server.session.stop()
        const t2 = performance.now()
        const sample = { collectMs: t1 - t0, stopMs: t2 - t1, totalMs: t2 - t0, serverCpuMs, collectorCpuMs: (ownCpu.user + ownCpu.system) / 1000, files: Object.keys(collected.data).length, processes: collected.processes }
        ;((samples[workers] ??= {})[scope] ??= []).push(sample)
        log(`teardown live round ${round} ${workers}w ${scope}: collect ${fmt(sample.collectMs)} ms + stop ${fmt(sample.stopMs)} ms, ${sample.files} files`)
      }
    }
  }
  const results = {}
  for (const [workers, byScope] of Object.entries(samples)) {
    for (const [scope, list] of Object.entries(byScope)) {
      ;(results[workers] ??= {})[scope] = {
        collectMs: median(list.map((s) => s.collectMs)),
        stopMs: median(list.map((s) => s.stopMs)),
        totalMs: median(list.map((s) => s.totalMs)),
        serverCpuMs: median(list.map((s) => s.serverCpuMs)),
        collectorCpuMs: median(list.map((s) => s.collectorCpuMs)),
        files: list[0].files,
        processes: list[0].processes,
      }
    }
  }
  return results
}

function collectorArgs(tool, dataset, wide, scope, outDir) {
  if (tool.startsWith('server-coverage')) return [join(BENCH, 'children', 'ours.js'), dataset.rawDir, wide.dir, SCOPES[scope].join(','), outDir]
  if (tool === 'monocart') return [join(BENCH, 'children', 'monocart.js'), dataset.rawDir, wide.dir, scope, outDir]
  const includes = SCOPES[scope].flatMap((glob) => ['--include', glob])
  return [BIN.c8, 'report', '--temp-directory', dataset.rawDir, '--reports-dir', outDir, '--reporter', 'json', ...includes]
}

/** Our folder of stored plans for a run of `tool` (SERVER_COVERAGE_CACHE_DIR): emptied first for a first run. */
function planCache(tool, dataset, scope) {
  if (tool !== FIRST && tool !== WARM) return {}
  const dir = join(dataset.base, `plans-${scope}-${tool === WARM ? 'kept' : 'first'}`)
  if (tool === FIRST) rmSync(dir, { recursive: true, force: true })
  return { SERVER_COVERAGE_CACHE_DIR: dir }
}

/** B: the same raw data through each tool. `datasets` maps workers → generateRaw() result. */
export async function runSameData({ datasets, wide, rounds, log }) {
  // The earlier run of the WARM rows, outside the measured rounds.
  for (const dataset of Object.values(datasets)) {
    for (const scope of Object.keys(SCOPES)) {
      await runCollector(collectorArgs(WARM, dataset, wide, scope, join(dataset.base, `out-warmup-${scope}`)), { cwd: wide.dir, env: planCache(WARM, dataset, scope) })
    }
  }
  const samples = {}
  for (let round = 1; round <= rounds; round++) {
    for (const [workers, dataset] of Object.entries(datasets)) {
      for (const scope of Object.keys(SCOPES)) {
        const order = TOOLS.map((_, i) => TOOLS[(i + round - 1) % TOOLS.length])
        for (const tool of order) {
          const outDir = join(dataset.base, `out-${tool.replace(/\W/g, '')}-${scope}`)
          rmSync(outDir, { recursive: true, force: true })
          const run = await runCollector(collectorArgs(tool, dataset, wide, scope, outDir), { cwd: wide.dir, env: planCache(tool, dataset, scope) })
          const sample = { wallMs: run.wallMs, maxRssKb: run.maxRssKb, files: countReportFiles(outDir), inner: run.json }
          ;(((samples[workers] ??= {})[scope] ??= {})[tool] ??= []).push(sample)
          log(`teardown same-data round ${round} ${workers}w ${scope} ${tool}: ${fmt(sample.wallMs)} ms, ${sample.files} files, ${fmt(sample.maxRssKb / 1024)} MB RSS`)
        }
      }
    }
  }
  const results = {}
  for (const [workers, byScope] of Object.entries(samples)) {
    for (const [scope, byTool] of Object.entries(byScope)) {
      for (const [tool, list] of Object.entries(byTool)) {
        ;(((results[workers] ??= {})[scope] ??= {})[tool] = {
          wallMs: median(list.map((s) => s.wallMs)),
          maxRssKb: median(list.map((s) => s.maxRssKb)),
          files: list[0].files,
          inner: list[0].inner && Object.fromEntries(Object.keys(list[0].inner).map((key) => [key, median(list.map((s) => s.inner[key]))])),
        })
      }
    }
  }
  return results
}

export function render({ live, sameData, datasets, rounds, wide }) {
  const liveRows = []
  for (const [workers, byScope] of Object.entries(live)) {
    for (const [scope, r] of Object.entries(byScope)) {
      const one = live[Object.keys(live)[0]][scope]
      const cpu = r.serverCpuMs + r.collectorCpuMs
      if (scope === FLOOR_SCOPE) liveRows.push([workers, scope, String(r.processes), '–', '–', '–', '–', fmt(r.stopMs), fmt(r.totalMs), ratio(r.totalMs / one.totalMs)])
      else liveRows.push([workers, scope, String(r.processes), String(r.files), fmt(r.collectMs), `${fmt(cpu)} (${fmt(r.serverCpuMs)} + ${fmt(r.collectorCpuMs)})`, fmt(cpu / 2), fmt(r.stopMs), fmt(r.totalMs), ratio(r.totalMs / one.totalMs)])
    }
  }
  const sameRows = []
  for (const [workers, byScope] of Object.entries(sameData)) {
    const dataset = datasets[workers]
    const rawBytes = dataset.files.reduce((sum, f) => sum + f.size, 0)
    for (const [scope, byTool] of Object.entries(byScope)) {
      const c8 = byTool['c8 report']
      for (const tool of TOOLS) {
        const r = byTool[tool]
        const inner = r.inner?.readMs !== undefined ? ` (read + merge ${fmt(r.inner.readMs)}, convert ${fmt(r.inner.convertMs)}, write ${fmt(r.inner.writeMs)})` : ''
        sameRows.push([workers, `${dataset.files.length} / ${(rawBytes / 1048576).toFixed(1)} MB`, scope, tool, `${fmt(r.wallMs)}${inner}`, ratio(r.wallMs / c8.wallMs), fmt(r.maxRssKb / 1024), String(r.files)])
      }
    }
  }
  return [
    '### A. Live session: `collect()` + `stop()`',
    '',
    `The wide-scope copy of the example (\`server.js\`, \`src/app.js\`, express + ${wide.packages} packages in \`libs/\`), Node 20,`,
    `after 1 s of load; ${rounds} interleaved rounds, medians. collect = flush every process + read + filter + merge + convert;`,
    'stop = SIGTERM to the group, each process writes its last file and exits, control socket closed.',
    'collect CPU = run time of every server process (/proc/<pid>/schedstat) + the collector\'s own CPU, over the collect;',
    'on 2 cores the collect cannot take less wall time than half of it (the floor column): every process serialises its',
    'own V8 coverage (every script it ran, Node\'s internals included; section 5) and the collector reads it. The stop',
    'repeats that work once more in every process (V8 writes its exit file). Counted on load, a process serialises only the',
    'counters of the included files, at the flush and at exit. The floor rows are the same server without coverage, every',
    'process leaving through `process.exit` on SIGTERM (as a process under the agent does), waited for the way the session',
    'waits: what stopping 17 Node processes costs on 2 cores before any coverage is written.',
    '',
    table(['workers', 'scope', 'processes', 'files in report', 'collect ms', 'collect CPU ms (server + collector)', 'CPU floor on 2 cores ms', 'stop ms', 'total ms', 'vs 1 worker'], liveRows),
    '',
    '### B. Same raw V8 data: server-coverage vs `c8 report` vs monocart',
    '',
    'One flushed server run per worker count (a flush, then the exit file of every process), read by each tool in a fresh',
    `child process (wall time, so each pays Node start-up and its module loading); ${rounds} interleaved rounds, medians.`,
    'server-coverage = CoverageDirReader (read, filter, merge per script) + convertScripts + write coverage-final.json, in one thread;',
    'without a plan store (a CI job without a cache folder), as a first run that stores the plans, and as a later run that reads them;',
    '(a pool of worker threads was measured and dropped: +45% CPU, no faster on 2 shared cores); c8 = `c8 report --reporter json`;',
    'monocart = `CoverageReport({ reports: [\'json\'], entryFilter })` + `addFromDir`.',
    '',
    table(['workers', 'raw files / size', 'scope', 'tool', 'wall ms (ours: in-process phases)', 'vs c8', 'peak RSS MB', 'files in report'], sameRows),
  ].join('\n')
}
