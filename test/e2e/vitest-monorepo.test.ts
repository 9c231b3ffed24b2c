import { join } from 'node:path'
import { expect, test } from 'vitest'
import { REPO, fileCoverage, lineOf, makeProject, readCoverage, runVitest, statementHits, tempDirs } from './harness.js'

const track = tempDirs()

test('a monorepo run from the root: a server per Vitest project, one merged report', async () => {
  const dir = makeProject('monorepo', join(REPO, 'examples', 'monorepo'))
  track(dir)
  const run = await runVitest(dir, ['run', '--coverage'])
  expect(run.code, run.output).toBe(0)
  const ports = [...run.output.matchAll(/(catalog|orders): ready at http:\/\/127\.0\.0\.1:(\d+)/g)].map((match) => [match[1], match[2]])
  expect(ports.map(([name]) => name).sort()).toEqual(['catalog', 'orders'])
  expect(new Set(ports.map(([, port]) => port)).size).toBe(2)
  const coverage = readCoverage(dir)
  expect(Object.keys(coverage).sort()).toEqual(
    ['packages/catalog/src/server.js', 'packages/orders/src/server.js', 'packages/shared/src/money.js'].map((file) => join(dir, file)),
  )
  const catalog = fileCoverage(coverage, dir, 'packages/catalog/src/server.js')
  expect(statementHits(catalog, lineOf(dir, 'packages/catalog/src/server.js', 'res.end(JSON.stringify({ ...product'))).toBe(3)
  const orders = fileCoverage(coverage, dir, 'packages/orders/src/server.js')
  expect(statementHits(orders, lineOf(dir, 'packages/orders/src/server.js', 'orders.push(order)'))).toBe(5)
  // One file run by both projects' servers: one entry, 3 (catalog) + 5 (orders) = 8, not 3 or 5.
  const shared = fileCoverage(coverage, dir, 'packages/shared/src/money.js')
  expect(statementHits(shared, lineOf(dir, 'packages/shared/src/money.js', 'const euros'))).toBe(8)
  expect(Object.values(shared.f)).toEqual([8])
  expect(run.output).not.toContain('did not line up')
})
