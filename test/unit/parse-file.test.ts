import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { parseCoverageFile } from '../../src/runtimes/node/parse-file.js'

const dir = mkdtempSync(join(tmpdir(), 'sc-parse-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// A real coverage file of a process that loaded a source-mapped script: the fast parse keeps
// exactly the file:// scripts outside node_modules of a full JSON.parse, the timestamp, and the
// source maps of the scripts it kept.
test('the filtered parse equals a full parse minus internals and node_modules', () => {
  const script = join(dir, 'app.js')
  writeFileSync(script, 'const http = require("node:http")\nfunction f(x) { return x ? 1 : 2 }\nf(1)\n//# sourceMappingURL=data:application/json;base64,' +
    Buffer.from(JSON.stringify({ version: 3, sources: ['app.ts'], mappings: 'AAAA', names: [] })).toString('base64') + '\n')
  const run = spawnSync(process.execPath, [script], { env: { ...process.env, NODE_V8_COVERAGE: join(dir, 'v8') } })
  expect(run.status).toBe(0)
  const [name] = readdirSync(join(dir, 'v8'))
  const text = readFileSync(join(dir, 'v8', name!), 'utf8')
  const full = JSON.parse(text) as { result: { url: string }[]; timestamp: number; 'source-map-cache'?: object }
  const fast = parseCoverageFile(text)
  expect(full.result.length).toBeGreaterThan(20)
  expect(fast.result).toEqual(full.result.filter((s) => s.url.startsWith('file://') && !s.url.includes('/node_modules/')))
  expect(fast.result.map((s) => s.url)).toContain(`file://${script}`)
  expect((fast as { timestamp?: number }).timestamp).toBe(full.timestamp)
  expect(fast['source-map-cache']).toEqual(full['source-map-cache'])
  expect(Object.keys(fast['source-map-cache'] ?? {})).toContain(`file://${script}`)
  // From a Buffer, the same; a `keep` filter that refuses the script drops it and its map.
  expect(parseCoverageFile(Buffer.from(text))).toEqual(fast)
  const asked: [string, boolean][] = []
  const refused = parseCoverageFile(text, (url, hasSourceMap) => (asked.push([url, hasSourceMap]), false))
  expect(asked).toEqual([[`file://${script}`, true]])
  expect(refused.result).toEqual([])
  expect(refused['source-map-cache']).toEqual({})
  // Maps parsed for an earlier file are shared when their bytes are the same, parsed again when not.
  const parsedMaps = new Map()
  const first = parseCoverageFile(text, undefined, parsedMaps)['source-map-cache']![`file://${script}`]
  expect(first).toEqual(full['source-map-cache']![`file://${script}` as never])
  expect(parseCoverageFile(Buffer.from(text), undefined, parsedMaps)['source-map-cache']![`file://${script}`]).toBe(first)
  const edited = parseCoverageFile(text.replace('"mappings":"AAAA"', '"mappings":"AACA"'), undefined, parsedMaps)['source-map-cache']![`file://${script}`]
  expect(edited).not.toBe(first)
  expect(edited?.data?.mappings).toBe('AACA')
})

test('a truncated file throws; an unexpected layout falls back to a full parse', () => {
  expect(() => parseCoverageFile('{"result":[{"scriptId":"1","url":"file:///x.js","functions":[')).toThrow()
  const reordered = '{"timestamp":1,"result":[{"scriptId":"1","url":"node:fs","functions":[]}]}'
  expect(parseCoverageFile(reordered).result).toHaveLength(1)
  expect(parseCoverageFile('{"result":[],"timestamp":5}')).toEqual({ result: [], timestamp: 5 })
})
