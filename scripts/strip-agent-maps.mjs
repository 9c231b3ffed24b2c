// After `tsc`: the agents run in every server process under coverage, where Node reads and parses
// a script's source map at load (~2-3 ms per process, and ~6 KB of it lands in every coverage
// file). Nobody debugs the agents from the server, so their compiled files point to no map.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

// The agent's own folder, and the CommonJS modules it shares with the collector (report-rule,
// cache-entry: `.cjs` is only built for what the agent requires).
const dist = join(import.meta.dirname, '..', 'dist')
const agentFiles = readdirSync(join(dist, 'agent')).filter((file) => /\.[cm]js$/.test(file)).map((file) => join('agent', file))
const shared = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.cjs') && !file.startsWith('agent'))
for (const name of [...agentFiles, ...shared]) {
  const file = join(dist, name)
  const text = readFileSync(file, 'utf8')
  const stripped = text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n')
  if (stripped !== text) writeFileSync(file, stripped)
}
