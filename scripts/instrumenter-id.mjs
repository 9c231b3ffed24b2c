// After `tsc`: the digest of the built instrumenter (dist/agent/instrument.cjs), which the agents'
// cache of instrumented code (src/agent/instrument-cache.cts) stores in every entry and compares;
// and the digest of the built planner (dist/coverage/convert-plain.js and identity-locator.js, where
// the locations come from), which the converter's
// stored plans (src/coverage/plan-store.ts) carry the same way.
// Computed here, once per build, because hashing the 17 KB file in every server process costs
// ~1 ms of its start-up (interpreted FNV-1a, measured on Node 24), about what a cache hit saves.
// Any change to what the instrumenter emits changes its text, so no version has to be bumped by hand.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dist = join(import.meta.dirname, '..', 'dist')
const ids = { 'agent/instrument-id.txt': ['agent/instrument.cjs'], 'coverage/plan-id.txt': ['coverage/convert-plain.js', 'coverage/identity-locator.js', 'coverage/plan-pack.js'] }
for (const [id, built] of Object.entries(ids)) {
  const hash = createHash('sha256')
  for (const file of built) hash.update(readFileSync(join(dist, file)))
  writeFileSync(join(dist, id), `${hash.digest('hex')}\n`)
}
