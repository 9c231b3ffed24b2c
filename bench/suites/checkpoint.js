// 5. Checkpoint cost: what one flush (`v8.takeCoverage()` through the agent) costs per process, in
// time and bytes, and how much of each file the early filter keeps.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { dist } from '../lib/paths.js'
import { bytes, fmt, median, table } from '../lib/stats.js'
import { SCOPES } from './teardown.js'

/** Groups a raw folder's files by process, in write order: [first flush, …deltas, exit file]. */
function filesByProcess(dataset) {
  const byProcess = new Map()
  for (const file of dataset.files) {
    const match = /^coverage-(\d+)-(\d+)-(\d+)\.json$/.exec(file.name)
    if (!match) continue
    const key = `${match[1]}/${match[3]}`
    if (!byProcess.has(key)) byProcess.set(key, [])
    byProcess.get(key).push({ ...file, ms: Number(match[2]) })
  }
  for (const list of byProcess.values()) list.sort((a, b) => a.ms - b.ms)
  return [...byProcess.values()]
}

export async function run({ datasets, wide }) {
  const { filterProcessCov } = await dist('runtimes/node/read-dir.js')
  const { reportFilter } = await dist('coverage/filter.js')
  const filters = Object.fromEntries(Object.entries(SCOPES).map(([scope, include]) => [scope, reportFilter({ cwd: wide.dir, include, exclude: [] }).script]))
  const rows = []
  const sizeRows = []
  const results = []
  for (const dataset of datasets) {
    const processes = dataset.processes
    const [first, ...rest] = dataset.flushes
    const r = {
      workers: processes - 1,
      processes,
      checkpoints: dataset.flushes.length,
      firstFlushMs: first.ms,
      deltaFlushMs: median(rest.map((f) => f.ms)),
      firstCpuMsPerProcess: first.cpuMs / processes,
      deltaCpuMsPerProcess: median(rest.map((f) => f.cpuMs / processes)),
    }
    results.push(r)
    rows.push([String(r.workers), String(processes), fmt(r.firstFlushMs), fmt(r.deltaFlushMs), fmt(r.firstCpuMsPerProcess, 1), fmt(r.deltaCpuMsPerProcess, 1)])
    // Sizes: first dump, deltas and exit file per process; filtered share of each kind.
    const kinds = { 'first flush (full dump)': [], 'later flush (delta)': [], 'exit file': [] }
    for (const list of filesByProcess(dataset)) {
      list.forEach((file, index) => {
        const kind = index === 0 ? 'first flush (full dump)' : index === list.length - 1 ? 'exit file' : 'later flush (delta)'
        kinds[kind].push(file)
      })
    }
    for (const [kind, files] of Object.entries(kinds)) {
      if (files.length === 0) continue
      // Parsing every file is slow for big folders: a sample of up to 12 per kind is enough for medians.
      const sample = files.filter((_, i) => i % Math.ceil(files.length / 12) === 0)
      const filtered = { app: [], wide: [] }
      const scripts = []
      for (const file of sample) {
        const parsed = JSON.parse(readFileSync(join(dataset.rawDir, file.name), 'utf8'))
        scripts.push(parsed.result.length)
        for (const scope of Object.keys(filters)) filtered[scope].push(Buffer.byteLength(JSON.stringify(filterProcessCov(parsed, filters[scope]).processCov)))
      }
      const raw = median(files.map((f) => f.size))
      sizeRows.push([
        String(r.workers),
        kind,
        String(files.length),
        fmt(median(scripts)),
        bytes(raw),
        `${bytes(median(filtered.app))} (${fmt((100 * median(filtered.app)) / raw, 2)}%)`,
        `${bytes(median(filtered.wide))} (${fmt((100 * median(filtered.wide)) / raw, 1)}%)`,
      ])
    }
  }
  const markdown = [
    'Flush = `control.flush()` of the build: every live process of the server runs the agent\'s `v8.takeCoverage()` and',
    'acknowledges; wall time of the whole round (processes flush in parallel on the 2 cores). CPU = user+sys of the',
    'server\'s group over the round, per process. Each checkpoint follows 0.5 s of load.',
    '',
    table(['workers', 'processes', 'first flush ms (round)', 'later flush ms (round, median)', 'first flush CPU ms / process', 'later flush CPU ms / process'], rows),
    '',
    'Bytes per file per process (medians), and what the early filter keeps (app scope = 2 files, wide = + express tree):',
    '',
    table(['workers', 'file', 'files', 'scripts in file', 'raw size', 'kept, app scope', 'kept, wide scope'], sizeRows),
  ].join('\n')
  return { results, markdown }
}
