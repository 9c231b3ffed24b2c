// The targets, judged on one run's results: { target, measured, met }.
import { fmt, ratio } from './stats.js'

export function evaluateTargets(results) {
  const targets = []
  for (const [node, byConfig] of Object.entries(results.overhead ?? {})) {
    const value = byConfig['server-coverage'].rps / byConfig.NODE_V8_COVERAGE.rps
    targets.push({ target: `${node}: server-coverage req/s ≥ 0.97× plain NODE_V8_COVERAGE`, measured: ratio(value), met: value >= 0.97 })
  }
  const live = results.teardown?.live
  if (live?.[16] && live?.[1]) {
    for (const scope of Object.keys(live[1])) {
      const value = live[16][scope].totalMs / live[1][scope].totalMs
      targets.push({
        target: `teardown (collect + stop), ${scope} scope: 16 workers ≤ 1.5× 1 worker`,
        measured: `${ratio(value)} (${fmt(live[16][scope].totalMs)} vs ${fmt(live[1][scope].totalMs)} ms)`,
        met: value <= 1.5,
      })
    }
  }
  for (const [workers, byScope] of Object.entries(results.teardown?.sameData ?? {})) {
    for (const [scope, byTool] of Object.entries(byScope)) {
      const value = byTool['server-coverage'].wallMs / byTool['c8 report'].wallMs
      targets.push({
        target: `same data, ${workers} worker(s), ${scope} scope: faster than \`c8 report\``,
        measured: `${ratio(value)} (${fmt(byTool['server-coverage'].wallMs)} vs ${fmt(byTool['c8 report'].wallMs)} ms)`,
        met: value < 1,
      })
    }
  }
  for (const [node, byConfig] of Object.entries(results.startup ?? {})) {
    const value = byConfig['server-coverage'] / byConfig.bare
    targets.push({ target: `${node}: start-up ≤ 1.2× bare`, measured: `${ratio(value)} (${fmt(byConfig['server-coverage'])} vs ${fmt(byConfig.bare)} ms)`, met: value <= 1.2 })
  }
  for (const run of results.memory?.live ?? []) {
    if (run.steps.length < 5) continue
    const first = run.steps[0].rss
    const last = run.steps.at(-1).rss
    const value = last / first
    targets.push({
      target: `collector memory flat: ${run.workers} workers × ${run.checkpoints} collects, RSS after last ≤ 1.15× after first`,
      measured: `${ratio(value)} (${fmt(first / 1048576)} → ${fmt(last / 1048576)} MB)`,
      met: value <= 1.15,
    })
  }
  const offline = results.memory?.offline ?? []
  const small = offline.find((r) => r.workers === 1 && r.checkpoints === 1 && r.scope === 'wide')
  const big = offline.filter((r) => r.scope === 'wide').sort((a, b) => b.rawBytes - a.rawBytes)[0]
  if (small && big && big !== small) {
    const growth = (big.maxRssKb - small.maxRssKb) / 1024
    const rawGrowth = (big.rawBytes - small.rawBytes) / 1048576
    const value = growth / rawGrowth
    targets.push({
      target: 'collector memory flat, one read of a whole folder (wide scope): peak RSS grows < 0.25 MB per MB of raw data',
      measured: `${fmt(value, 2)} MB/MB (${fmt(small.maxRssKb / 1024)} MB for ${fmt(small.rawBytes / 1048576)} MB raw → ${fmt(big.maxRssKb / 1024)} MB for ${fmt(big.rawBytes / 1048576)} MB raw)`,
      met: value < 0.25,
    })
  }
  return targets
}
