import type { ProcessCov, ScriptCov } from '../../src/coverage/v8-types.js'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mergeProcessCovs as libraryMerge } from '@bcoe/v8-coverage'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { mergeProcessCovs } from '../../src/coverage/merge-v8.js'

// Our mergeProcessCovs skips range trees for functions with one range on every side; it must give
// @bcoe/v8-coverage's result exactly (values and order), because every converter downstream (ours,
// ast-v8-to-istanbul, Jest's v8-to-istanbul) reads that layout. Real V8 coverage: four processes of
// an Express app served different amounts of requests (none, 1, 5, 20 per round), each flushing
// three deltas and an exit file; every script is compared, Node's internals included.

const ROOT = join(import.meta.dirname, '..', '..')
let dir: string
let files: ProcessCov[]

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sc-merge-'))
  const app = `
    const express = require('express'), http = require('node:http'), v8 = require('node:v8')
    const app = express()
    app.get('/a/:id', (req, res) => res.json({ id: req.params.id, q: req.query.x ? 1 : 0 }))
    app.use((req, res) => res.status(404).send('no'))
    const server = app.listen(0, '127.0.0.1', async () => {
      const port = server.address().port
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < Number(process.argv[1]); i++) {
          await new Promise((done) => http.get({ host: '127.0.0.1', port, path: i % 3 ? '/a/' + i + '?x=' + round : '/missing' }, (res) => res.resume().on('end', done)))
        }
        v8.takeCoverage()
      }
      server.close()
    })`
  for (const requests of [0, 1, 5, 20]) {
    const run = spawnSync(process.execPath, ['-e', app, String(requests)], { cwd: ROOT, env: { ...process.env, NODE_V8_COVERAGE: dir, NODE_OPTIONS: '' }, encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
  }
  files = readdirSync(dir)
    .sort()
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as ProcessCov)
    .map((file) => ({ result: file.result }))
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('merging everything at once equals the library, script for script', () => {
  expect(files.length).toBe(16)
  const ours = mergeProcessCovs(structuredClone(files))
  expect(ours).toStrictEqual(libraryMerge(structuredClone(files)))
  // The data exercises both paths: functions with one range on every side, and functions with blocks.
  const functions = ours.result.flatMap((script) => script.functions)
  expect(functions.filter((fn) => fn.ranges.length === 1).length).toBeGreaterThan(1000)
  expect(functions.filter((fn) => fn.ranges.length > 1).length).toBeGreaterThan(100)
})

test('merging file by file, script by script (the reader), then accumulating reads (watch mode), equals the library', () => {
  const pairwise = (merge: typeof mergeProcessCovs, input: ProcessCov[]): ProcessCov => {
    const byUrl = new Map<string, ScriptCov>()
    for (const file of input) {
      for (const script of file.result) {
        const merged = byUrl.get(script.url)
        byUrl.set(script.url, merged ? merge([{ result: [merged, script] }]).result[0]! : script)
      }
    }
    return merge([{ result: [...byUrl.values()] }])
  }
  const ours = pairwise(mergeProcessCovs, structuredClone(files))
  expect(ours).toStrictEqual(pairwise(libraryMerge, structuredClone(files)))
  // Two reads accumulated, as a watch-mode session adds each read to what it had.
  const accumulate = (merge: typeof mergeProcessCovs): ProcessCov => merge([pairwise(merge, structuredClone(files.slice(0, 7))), pairwise(merge, structuredClone(files.slice(7)))])
  expect(accumulate(mergeProcessCovs)).toStrictEqual(accumulate(libraryMerge))
  // Counts are added, not replaced: a script every process ran has the sum of its top-level counts.
  const express = ours.result.find((script) => script.url.endsWith('/node_modules/express/lib/express.js'))!
  const topLevelCount = (script: ScriptCov): number => script.functions.find((fn) => fn.ranges[0]!.startOffset === 0 && fn.functionName === '')?.ranges[0]!.count ?? 0
  const copies = files.flatMap((file) => file.result.filter((script) => script.url === express.url))
  expect(copies.length).toBeGreaterThanOrEqual(4)
  expect(topLevelCount(express)).toBe(copies.reduce((sum, script) => sum + topLevelCount(script), 0))
  expect(topLevelCount(express)).toBe(4)
})
