// The collecting process of a live session, measured from inside: a server with W workers,
// C checkpoints (load, then collect(): flush + read + merge + convert), then stop. Prints memory
// after each collect and the peak RSS. The load runs in another process (children/load.js): this
// one holds only the collector, as the runner's main process does while test workers send requests.
// Usage: node [--expose-gc] live-memory.js <node> <cwd> <NODE_PATH> <workers> <checkpoints> <include,globs>
// Under --expose-gc it also runs a full GC after each step is measured and records the heap left:
// what the collector keeps, apart from garbage not collected yet (a run of its own: the GCs change RSS).
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

const [node, cwd, nodePath, workers, checkpoints, includeList] = process.argv.slice(2)
const { startServerCoverage } = await import(join(import.meta.dirname, '..', '..', 'dist', 'index.js'))
const session = await startServerCoverage(
  { command: `${node} server.js`, cwd, url: '/health', include: includeList.split(','), env: { WORKERS: workers, NODE_PATH: nodePath, NODE_OPTIONS: '' } },
  { root: cwd, log: () => {} },
)
const url = session.urls.server
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`not loopback: ${url}`)
let heapPeak = 0
const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 2)
const afterStart = process.memoryUsage()
const steps = []
try {
  for (let checkpoint = 1; checkpoint <= Number(checkpoints); checkpoint++) {
    execFileSync(process.execPath, [join(import.meta.dirname, 'load.js'), `${url}/users/1`, '0.3', String(Math.max(4, Number(workers)))], { env: { ...process.env, NODE_OPTIONS: '' } })
    const startedAt = performance.now()
    const collected = await session.collect()
    const ms = performance.now() - startedAt
    const memory = process.memoryUsage()
    const step = { checkpoint, ms, files: collected.files, rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal }
    if (globalThis.gc) {
      globalThis.gc()
      step.heapAfterGc = process.memoryUsage().heapUsed
    }
    steps.push(step)
  }
} finally {
  await session.stop()
  clearInterval(sampler)
}
console.log(JSON.stringify({ afterStart: { rss: afterStart.rss, heapUsed: afterStart.heapUsed }, steps, heapPeak, maxRssKb: process.resourceUsage().maxRSS }))
