// server-coverage's collection on a raw V8 folder, as the session does it: read incrementally with
// the early filter, merge raw V8 across processes and checkpoints, convert once per file, keep the
// accepted files, write coverage-final.json. Prints a JSON line with timings and heap samples.
// Usage: node ours.js <rawDir> <cwd> <include,globs> <outDir>
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [rawDir, cwd, includeList, outDir] = process.argv.slice(2)
const DIST = join(import.meta.dirname, '..', '..', 'dist')
const fromRoot = createRequire(join(DIST, '..', 'package.json'))
const { mergeProcessCovs } = await import(pathToFileURL(fromRoot.resolve('@bcoe/v8-coverage')).href)
const { CoverageDirReader } = await import(join(DIST, 'runtimes', 'node', 'read-dir.js'))
const { reportFilter } = await import(join(DIST, 'coverage', 'filter.js'))
const { convertScripts } = await import(join(DIST, 'coverage', 'convert.js'))
const { parseWithAcorn } = await import(join(DIST, 'coverage', 'parse.js'))

let heapPeak = 0
const sample = () => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed))
const sampler = setInterval(sample, 2)
const baselineRss = process.memoryUsage().rss
const t0 = performance.now()
const filter = reportFilter({ cwd, include: includeList.split(','), exclude: [] })
const read = await new CoverageDirReader(rawDir).read(filter.script, true)
sample()
const t1 = performance.now()
// The reader merges as it reads (read + merge are one step now; mergeMs is the final pass only).
const merged = mergeProcessCovs([read.processCov])
sample()
const t2 = performance.now()
const conversion = await convertScripts(merged.result, read.sourceMaps, parseWithAcorn, [])
const data = {}
for (const [file, coverage] of Object.entries(conversion.data)) if (filter.accepts(file)) data[file] = coverage
sample()
const t3 = performance.now()
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, 'coverage-final.json'), JSON.stringify(data))
const t4 = performance.now()
clearInterval(sampler)
const filteredBytes = Buffer.byteLength(JSON.stringify(read.processCov))
console.log(
  JSON.stringify({
    readMs: t1 - t0,
    mergeMs: t2 - t1,
    convertMs: t3 - t2,
    writeMs: t4 - t3,
    totalMs: t4 - t0,
    rawFiles: read.files,
    reportFiles: Object.keys(data).length,
    failed: conversion.failed.length,
    filteredBytes,
    heapPeak,
    baselineRss,
  }),
)
