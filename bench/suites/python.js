// 7. Python servers under Coverage.py as server-coverage runs it, vs untraced (bench/python/measure.js),
// in the same run as everything else. Where uWSGI, wrk or the Python packages are missing, the rows
// of the last `npm run bench:python` (bench/python/RESULTS.md) are shown instead, said as such.
import { measurePython, pythonUnavailable, TARGETS } from '../python/measure.js'
import { fmt, median, ratio, table } from '../lib/stats.js'

export async function run({ rounds = 5, seconds = 4, log }) {
  const missing = pythonUnavailable()
  if (missing) {
    log(`python: not measured (${missing})`)
    return { results: undefined, markdown: undefined, missing }
  }
  const results = await measurePython({ rounds, seconds, log })
  const parts = [
    `The examples' apps unchanged, \`wrk -t2 -c8\` on loopback after a 1 s warm-up, ${seconds} s per measurement, ${rounds} interleaved`,
    'rounds (untraced, traced, …), medians. Traced = exactly what the Python runtime injects (shared-import hook,',
    'Coverage.py C tracer, `branch = True`, `parallel = True`, the app folder only) with a live control socket: every',
    'worker registers and saves (rotating its data file) every 5 s. uvicorn opens a connection per request (its h11',
    'protocol waits for a delayed ACK on kept-alive connections). More in bench/python/RESULTS.md.',
    '',
  ]
  for (const [name, { untraced, traced }] of Object.entries(results)) {
    const u = median(untraced)
    const t = median(traced)
    parts.push(`**${TARGETS[name].title}**, \`GET ${TARGETS[name].path}\``, '')
    parts.push(table(['', 'req/s per round', 'median'], [
      ['untraced', untraced.map((v) => fmt(v)).join(', '), fmt(u)],
      ['under Coverage.py', traced.map((v) => fmt(v)).join(', '), fmt(t)],
      ['**ratio**', '', `**${ratio(t / u)}**`],
    ]), '')
  }
  return { results, markdown: parts.join('\n') }
}
