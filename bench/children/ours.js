// server-coverage's collection on a raw V8 folder, as the session does it: read incrementally with
// the early filter (merged per script as files are read), convert once per script, keep the
// accepted files, write coverage-final.json. Prints a JSON line with timings (and, with --sample,
// heap samples: the memory suite; sampling costs time, so the timed comparison runs without it).
// Usage: node ours.js <rawDir> <cwd> <include,globs> <outDir> [--sample]
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const [rawDir, cwd, includeList, outDir, flag] = process.argv.slice(2)
const sampling = flag === '--sample'
const DIST = join(import.meta.dirname, '..', '..', 'dist')
const { CoverageDirReader } = await import(join(DIST, 'runtimes', 'node', 'read-dir.js'))
const { reportFilter } = await import(join(DIST, 'coverage', 'filter.js'))
const { convertScripts } = await import(join(DIST, 'coverage', 'convert.js'))
const { defaultParser } = await import(join(DIST, 'coverage', 'parse.js'))

let heapPeak = 0
const sample = () => sampling && (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed))
const sampler = sampling ? setInterval(sample, 2) : undefined
const baselineRss = process.memoryUsage.rss()
const t0 = performance.now()
const filter = reportFilter({ cwd, include: includeList.split(','), exclude: [] })
const read = await new CoverageDirReader(rawDir).read(filter.script, true)
sample()
const t1 = performance.now()
const conversion = await convertScripts(read.processCov.result, read.sourceMaps, await defaultParser(), [])
const data = {}
for (const [file, coverage] of Object.entries(conversion.data)) if (filter.accepts(file)) data[file] = coverage
sample()
const t2 = performance.now()
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, 'coverage-final.json'), JSON.stringify(data))
const t3 = performance.now()
clearInterval(sampler)
console.log(
  JSON.stringify({
    readMs: t1 - t0,
    convertMs: t2 - t1,
    writeMs: t3 - t2,
    totalMs: t3 - t0,
    rawFiles: read.files,
    reportFiles: Object.keys(data).length,
    failed: conversion.failed.length,
    ...(sampling ? { filteredBytes: Buffer.byteLength(JSON.stringify(read.processCov)), heapPeak } : {}),
    baselineRss,
  }),
)
