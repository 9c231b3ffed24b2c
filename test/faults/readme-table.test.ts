import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { REPO } from '../e2e/harness.js'

// The README's "What happens when…" table and the fault suite must list the same cases.
test('every README fault row has a test in test/faults, and every fault test has a row', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## What happens when'), readme.indexOf('## Common issues'))
  const rows = [...section.matchAll(/^\| (F\d+) \|/gm)].map((match) => match[1])
  const dir = join(REPO, 'test', 'faults')
  const titles = readdirSync(dir)
    .filter((name) => name.endsWith('.test.ts'))
    .flatMap((name) => [...readFileSync(join(dir, name), 'utf8').matchAll(/[`'"]\[(F\d+)\] /g)].map((match) => match[1]))
  expect(rows.length).toBeGreaterThanOrEqual(18)
  expect([...new Set(titles)].sort()).toEqual([...new Set(rows)].sort())
})
