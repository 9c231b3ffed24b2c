// 4. Peak memory of the collecting process.
// A. Offline, all at once: the collection (read → merge → convert) over raw folders of W workers ×
//    C checkpoints, in a fresh child: peak RSS (getrusage) and sampled heap peak, vs raw and filtered size.
// B. Live: a child that runs a session with W workers and C collect() calls (watch mode): memory after
//    each collect, to show whether anything accumulates across checkpoints.
import { join } from 'node:path'
import { runCollector } from '../lib/child.js'
import { BENCH } from '../lib/paths.js'
import { bytes, fmt, table } from '../lib/stats.js'
import { SCOPES } from './teardown.js'

const MB = 1024 * 1024

export async function runOffline({ datasets, wide, log }) {
  const results = []
  for (const dataset of datasets) {
    for (const scope of Object.keys(SCOPES)) {
      const run = await runCollector([join(BENCH, 'children', 'ours.js'), dataset.rawDir, wide.dir, SCOPES[scope].join(','), join(dataset.base, `mem-${scope}`), '--sample'], { cwd: wide.dir })
      const rawBytes = dataset.files.reduce((sum, f) => sum + f.size, 0)
      const r = { workers: dataset.processes - 1, checkpoints: dataset.flushes.length, scope, rawFiles: dataset.files.length, rawBytes, ...run.json, maxRssKb: run.maxRssKb, wallMs: run.wallMs }
      results.push(r)
      log(`memory offline ${r.workers}w×${r.checkpoints}c ${scope}: peak RSS ${fmt(r.maxRssKb / 1024)} MB, heap ${fmt(r.heapPeak / MB)} MB, raw ${bytes(rawBytes)}, filtered ${bytes(r.filteredBytes)}`)
    }
  }
  return results
}

export async function runLive({ node, wide, plans, log }) {
  const results = []
  for (const { workers, checkpoints, scope } of plans) {
    const args = [join(BENCH, 'children', 'live-memory.js'), node, wide.dir, wide.env.NODE_PATH, String(workers), String(checkpoints), SCOPES[scope].join(',')]
    const run = await runCollector(args, { cwd: wide.dir })
    // The same again with a full GC after each collect: what stays (the GCs change RSS, hence a run of its own).
    const retained = await runCollector(['--expose-gc', ...args], { cwd: wide.dir })
    const r = { workers, checkpoints, scope, ...run.json, retained: retained.json.steps.map((step) => step.heapAfterGc) }
    results.push(r)
    const last = r.steps.at(-1)
    log(`memory live ${workers}w×${checkpoints}c ${scope}: peak RSS ${fmt(r.maxRssKb / 1024)} MB, rss after first/last collect ${fmt(r.steps[0].rss / MB)}/${fmt(last.rss / MB)} MB`)
  }
  return results
}

export function render({ offline, live }) {
  const offlineRows = offline.map((r) => [
    String(r.workers),
    String(r.checkpoints),
    r.scope,
    `${r.rawFiles} / ${bytes(r.rawBytes)}`,
    bytes(r.filteredBytes),
    fmt(r.baselineRss / MB),
    fmt(r.maxRssKb / 1024),
    fmt(r.maxRssKb / 1024 - r.baselineRss / MB),
    fmt(r.heapPeak / MB),
    fmt(r.totalMs),
  ])
  const pick = (steps, n) => steps[Math.min(steps.length, n) - 1]
  const liveRows = live.map((r) => {
    const marks = [1, 5, 10, r.steps.length].filter((n, i, all) => n <= r.steps.length && all.indexOf(n) === i)
    return [
      String(r.workers),
      String(r.checkpoints),
      r.scope,
      fmt(r.afterStart.rss / MB),
      marks.map((n) => `#${n}: ${fmt(pick(r.steps, n).rss / MB)}`).join(', '),
      marks.map((n) => `#${n}: ${fmt(pick(r.steps, n).heapUsed / MB, 1)}`).join(', '),
      marks.map((n) => `#${n}: ${fmt(pick(r.steps, n).heapTotal / MB, 1)}`).join(', '),
      r.retained ? marks.map((n) => `#${n}: ${fmt(pick(r.retained, n) / MB, 1)}`).join(', ') : '',
      fmt(r.heapPeak / MB),
      fmt(r.maxRssKb / 1024),
      `${fmt(r.steps[0].ms)} / ${fmt(r.steps.slice(1).reduce((s, x) => s + x.ms, 0) / Math.max(1, r.steps.length - 1))}`,
    ]
  })
  return [
    '### A. One collection over a whole raw folder (the CLI `report` case), fresh child process',
    '',
    'Raw = every `coverage-*.json` (a full first dump per process, then deltas); filtered = the kept scripts after the early',
    'filter (JSON size). Baseline = RSS of the child after loading its modules, before reading.',
    '',
    table(['workers', 'checkpoints', 'scope', 'raw files / size', 'filtered', 'baseline RSS MB', 'peak RSS MB', 'peak − baseline MB', 'heap peak MB', 'ms'], offlineRows),
    '',
    '### B. Live session, one `collect()` per checkpoint (watch mode), the collecting process',
    '',
    'heapTotal = the V8 heap Node has committed; RSS counts only the pages touched so far. Retained = heapUsed right after',
    'a full GC, in a second run of its own (`--expose-gc`, a GC after every collect): what the collector keeps. RSS that',
    'follows heapTotal while the retained heap stays flat is V8 sizing its heap for the garbage each collect makes (and',
    'garbage reaching pages already reserved), not data kept across collects.',
    '',
    table(['workers', 'checkpoints', 'scope', 'RSS after start MB', 'RSS after collect #n MB', 'heapUsed after collect #n MB', 'heapTotal after collect #n MB', 'retained after collect #n MB', 'heap peak MB', 'peak RSS MB', 'collect ms first / mean of rest'], liveRows),
  ].join('\n')
}
