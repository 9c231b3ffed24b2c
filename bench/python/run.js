// Python servers under Coverage.py vs untraced, on their own (`npm run bench:python`); `npm run bench`
// runs the same measurement (bench/suites/python.js). See measure.js for what is measured.
// Usage: npm run build && node bench/python/run.js [uwsgi|uvicorn|all=all] [rounds=5] [seconds=4]
import { execFileSync } from 'node:child_process'
import { measurePython, TARGETS } from './measure.js'

const [which = 'all', roundsArg, secondsArg] = process.argv.slice(2)
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const results = await measurePython({ names: which === 'all' ? Object.keys(TARGETS) : [which], rounds: Number(roundsArg ?? 5), seconds: Number(secondsArg ?? 4) })
for (const [name, { untraced, traced }] of Object.entries(results)) {
  const u = median(untraced)
  const t = median(traced)
  console.log(`${name} (${TARGETS[name].path})`)
  console.log(`  untraced req/s: ${untraced.join(', ')} → median ${u}`)
  console.log(`  traced req/s:   ${traced.join(', ')} → median ${t}`)
  console.log(`  ratio traced/untraced: ${(t / u).toFixed(2)}`)
}
console.log(`machine: nproc ${execFileSync('nproc').toString().trim()}, ${execFileSync('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).toString().trim()}, load ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}`)
