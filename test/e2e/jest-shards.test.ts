import type { CoverageMapData } from 'istanbul-lib-coverage'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { NODE, REPO, fileCoverage, lineOf, statementHits, tempDirs } from './harness.js'
import { makeJestProject, runJest } from './jest-harness.js'

const track = tempDirs()

test('Jest --shard: each shard writes its report with the server coverage; `server-coverage merge` equals one run', async () => {
  const dir = makeJestProject('cluster')
  track(dir)
  const env = { WORKERS: '2', HITS: '6' }
  for (const shard of [1, 2]) {
    const run = await runJest(dir, ['--coverage', `--shard=${shard}/2`, `--coverageDirectory=shard-${shard}`], env)
    expect(run.code, run.output).toBe(0)
  }
  const merge = spawnSync(NODE, [join(REPO, 'bin', 'server-coverage.js'), 'merge', 'shard-1', 'shard-2', '--out', 'merged/coverage-final.json'], { cwd: dir, encoding: 'utf8' })
  expect(merge.status, merge.stderr).toBe(0)
  const single = await runJest(dir, ['--coverage', '--coverageDirectory=single'], env)
  expect(single.code, single.output).toBe(0)
  const read = (folder: string): CoverageMapData => JSON.parse(readFileSync(join(dir, folder, 'coverage-final.json'), 'utf8')) as CoverageMapData
  const merged = read('merged')
  const once = read('single')
  const hits = (coverage: CoverageMapData, marker: string): number | undefined =>
    statementHits(fileCoverage(coverage, dir, 'src/routes.mjs'), lineOf(dir, 'src/routes.mjs', marker))
  expect(Object.keys(merged).sort()).toEqual(Object.keys(once).sort())
  expect(Object.keys(fileCoverage(merged, dir, 'src/routes.mjs').statementMap)).toEqual(Object.keys(fileCoverage(once, dir, 'src/routes.mjs').statementMap))
  for (const marker of ['JSON.stringify({ hello', "'never called by the tests'", "res.end('not found')"]) expect(hits(merged, marker)).toBe(hits(once, marker))
  expect(hits(merged, 'JSON.stringify({ hello')).toBe(6)
  // Each shard boots its own server: one more readiness probe of /health per extra boot.
  expect(hits(merged, "res.end('ok')")).toBe((hits(once, "res.end('ok')") ?? 0) + 1)
})
