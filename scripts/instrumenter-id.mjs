// After `tsc`: the digest of the built instrumenter (dist/agent/instrument.cjs), which the agents'
// cache of instrumented code (src/agent/instrument-cache.cts) stores in every entry and compares.
// Computed here, once per build, because hashing the 17 KB file in every server process costs
// ~1 ms of its start-up (interpreted FNV-1a, measured on Node 24), about what a cache hit saves.
// Any change to what the instrumenter emits changes its text, so no version has to be bumped by hand.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dir = join(import.meta.dirname, '..', 'dist', 'agent')
const digest = createHash('sha256').update(readFileSync(join(dir, 'instrument.cjs'))).digest('hex')
writeFileSync(join(dir, 'instrument-id.txt'), `${digest}\n`)
