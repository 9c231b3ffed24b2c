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
  expect(Object.keys(coverage).sort()).toEqual([join(dir, 'packages/catalog/src/server.js'), join(dir, 'packages/orders/src/server.js')])
  const catalog = fileCoverage(coverage, dir, 'packages/catalog/src/server.js')
  expect(statementHits(catalog, lineOf(dir, 'packages/catalog/src/server.js', 'res.end(JSON.stringify(product))'))).toBe(1)
  const orders = fileCoverage(coverage, dir, 'packages/orders/src/server.js')
  expect(statementHits(orders, lineOf(dir, 'packages/orders/src/server.js', 'orders.push(order)'))).toBe(1)
})
