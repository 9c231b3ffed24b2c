#!/usr/bin/env node
// The benchmark entry (`npm run bench` at the root builds first). Runs every suite side by side in
// one run — interleaved rounds, medians, ratios — and writes bench/RESULTS.md and bench/results.json.
//
//   node bench/run.js                 everything (≈ 16 min on 2 cores)
//   node bench/run.js --quick         a smoke run under a minute: Node 20 only, 1 round, short loads, 1 and 4
//                                     workers (results not representative; `npm run bench:smoke` adds --no-write)
//   node bench/run.js --only overhead,startup,teardown,memory,checkpoint,v8cost,python
//   node bench/run.js --no-write      print, do not touch RESULTS.md
import { execFileSync } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const BENCH = import.meta.dirname
const ROOT = join(BENCH, '..')

// Dependencies first: the suites import autocannon and friends at load time.
if (!existsSync(join(BENCH, 'node_modules', 'autocannon'))) {
  console.error('bench: installing the benchmark dependencies (npm ci --prefix bench)…')
  execFileSync('npm', ['ci', '--prefix', BENCH, '--no-audit', '--no-fund'], { stdio: 'inherit' })
}
if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
  console.error('bench: dist/ is missing: run `npm run bench` (which builds) or `npm run build` first.')
  process.exit(1)
}
const { NODE24, nodeBinaries } = await import('./lib/paths.js')
if (!existsSync(NODE24)) {
  console.error('bench: installing Node 24 for the comparison (npm ci --prefix compat/vitest5)…')
  try {
    execFileSync('npm', ['ci', '--prefix', join(ROOT, 'compat', 'vitest5'), '--no-audit', '--no-fund'], { stdio: 'inherit' })
  } catch {
    console.error('bench: could not install Node 24: measuring Node 20 only.')
  }
}

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, 'no-write': { type: 'boolean', default: false } },
})
const only = new Set((args.only ?? (args.quick ? 'overhead,startup,teardown,memory,checkpoint' : 'overhead,startup,teardown,memory,checkpoint,v8cost,python')).split(','))
const quick = args.quick
const settings = {
  overheadRounds: quick ? 1 : 4,
  overheadSeconds: quick ? 1 : 3,
  v8costRounds: 3,
  startupRounds: quick ? 1 : 15,
  startupProcessRounds: quick ? 3 : 21,
  teardownRounds: quick ? 1 : 5,
  workersList: quick ? [1, 4] : [1, 4, 16],
  checkpoints: quick ? 3 : 20,
}

const { describeMachine } = await import('./lib/machine.js')
const { wideCopy } = await import('./lib/app-copy.js')
const { generateRaw } = await import('./lib/raw.js')
const overhead = await import('./suites/overhead.js')
const startup = await import('./suites/startup.js')
const startupProcess = await import('./suites/startup-process.js')
const teardown = await import('./suites/teardown.js')
const memory = await import('./suites/memory.js')
const checkpoint = await import('./suites/checkpoint.js')
const v8cost = await import('./suites/v8cost.js')
const pythonSuite = await import('./suites/python.js')
const { evaluateTargets } = await import('./lib/targets.js')

const startedAt = Date.now()
const log = (line) => console.error(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}`)
const nodes = nodeBinaries()
if (quick) delete nodes.node24
const machine = describeMachine(nodes)
machine.loadBefore = loadavg().map((v) => v.toFixed(2)).join(' ')
log(`machine: ${machine.nproc} × ${machine.cpu}, ${machine.memory}; ${Object.entries(machine.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`)

const results = { machine, settings }
const sections = {}
const wide = wideCopy()
const datasets = []
try {
  if (only.has('overhead')) {
    log('1. serving overhead…')
    const { countingOnLoad } = await import('./lib/servers.js')
    const extra = { "server-coverage, counting: 'load'": countingOnLoad }
    const r = await overhead.run({ nodes, rounds: settings.overheadRounds, seconds: settings.overheadSeconds, extra, modes: !quick, log })
    results.overhead = r.results
    sections.overhead = r.markdown
  }
  if (only.has('startup')) {
    log('3. start-up…')
    const r = await startup.run({ nodes, rounds: settings.startupRounds, log })
    results.startup = r.results
    const perProcess = await startupProcess.run({ nodes, rounds: settings.startupProcessRounds, log })
    results.startupProcess = perProcess.results
    sections.startup = `${r.markdown}\n\n### One process\n\n${perProcess.markdown}`
  }
  const needData = only.has('teardown') || only.has('memory') || only.has('checkpoint')
  const byKey = {}
  if (needData) {
    log('raw V8 data sets…')
    const plans = [...settings.workersList.map((workers) => ({ workers, checkpoints: 1 })), { workers: settings.workersList.at(-1), checkpoints: settings.checkpoints }]
    for (const plan of plans) {
      const dataset = await generateRaw({ node: nodes.node20, appDir: wide.dir, env: wide.env, ...plan })
      datasets.push(dataset)
      byKey[`${plan.workers}x${plan.checkpoints}`] = dataset
      log(`  ${plan.workers} workers × ${plan.checkpoints} checkpoints: ${dataset.files.length} files, ${(dataset.files.reduce((s, f) => s + f.size, 0) / 1048576).toFixed(1)} MB`)
    }
  }
  if (only.has('teardown')) {
    log('2. teardown…')
    const live = await teardown.runLive({ node: nodes.node20, wide, workersList: settings.workersList, rounds: settings.teardownRounds, log })
    const sameDataSets = Object.fromEntries(settings.workersList.map((w) => [w, byKey[`${w}x1`]]))
    const sameData = await teardown.runSameData({ datasets: sameDataSets, wide, rounds: settings.teardownRounds, log })
    results.teardown = { live, sameData }
    sections.teardown = teardown.render({ live, sameData, datasets: sameDataSets, rounds: settings.teardownRounds, wide })
  }
  if (only.has('memory')) {
    log('4. collector memory…')
    const offline = await memory.runOffline({ datasets, wide, log })
    const live = await memory.runLive({
      node: nodes.node20,
      wide,
      plans: [
        { workers: 1, checkpoints: settings.checkpoints, scope: 'wide' },
        { workers: settings.workersList.at(-1), checkpoints: settings.checkpoints, scope: 'wide' },
      ],
      log,
    })
    results.memory = { offline, live }
    sections.memory = memory.render({ offline, live })
  }
  if (only.has('v8cost')) {
    log('6. why V8 counting costs so much on Node 24…')
    const r = await v8cost.run({ nodes, rounds: settings.v8costRounds, seconds: settings.overheadSeconds, log })
    results.v8cost = r.results
    sections.v8cost = r.markdown
  }
  if (only.has('python')) {
    log('7. Python servers under Coverage.py…')
    const r = await pythonSuite.run({ log })
    results.python = r.results
    if (r.markdown) sections.python = r.markdown
    else sections.pythonMissing = r.missing
  }
  if (only.has('checkpoint')) {
    log('5. checkpoint cost…')
    const r = await checkpoint.run({ datasets: datasets.filter((d) => d.flushes.length > 1), wide })
    results.checkpoint = r.results
    sections.checkpoint = r.markdown
  }
} finally {
  rmSync(wide.dir, { recursive: true, force: true })
  for (const dataset of datasets) rmSync(dataset.base, { recursive: true, force: true })
}
machine.loadAfter = loadavg().map((v) => v.toFixed(2)).join(' ')
machine.durationS = Math.round((Date.now() - startedAt) / 1000)
const targets = evaluateTargets(results)
const { renderResults } = await import('./lib/render.js')
const markdown = renderResults({ machine, settings, sections, targets, quick, results })
if (args['no-write']) console.log(markdown)
else {
  writeFileSync(join(BENCH, 'RESULTS.md'), markdown)
  writeFileSync(join(BENCH, 'results.json'), `${JSON.stringify(results, null, 1)}\n`)
  log(`wrote bench/RESULTS.md and bench/results.json in ${machine.durationS} s`)
}
