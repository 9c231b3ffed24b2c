// After `tsc`: the agents run in every server process under coverage, where Node reads and parses
// a script's source map at load (~2-3 ms per process, and ~6 KB of it lands in every coverage
// file). Nobody debugs the agents from the server, so their compiled files point to no map.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dir = join(import.meta.dirname, '..', 'dist', 'agent')
for (const name of readdirSync(dir).filter((file) => /\.[cm]js$/.test(file))) {
  const file = join(dir, name)
  const text = readFileSync(file, 'utf8')
  const stripped = text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n')
  if (stripped !== text) writeFileSync(file, stripped)
}
