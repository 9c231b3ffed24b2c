import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { REPO } from '../e2e/harness.js'
import { PYTHON, missingPythonTools } from '../e2e/python-support.js'

// The Python network agent's framing of one flush answer (python/_server_coverage_network.py), over
// a real socket pair with a stand-in agent: chunks of at most 64 KB that add up to the text, the
// UTF-8 size, an empty delta without chunks, a failed save that sends nothing and keeps the files,
// and a collector gone mid-payload (the files are kept for the next one).

interface Line {
  t: string
  id: number
  data?: string
  error?: string
  payload?: { format: string; bytes: number; hashes?: Record<string, string> }
}

interface Case {
  case: string
  lines: Line[]
  discarded: string[]
  text: string
}

const missing = missingPythonTools([])

describe.skipIf(missing.length > 0)('the Python network agent answers a flush', () => {
  const output = execFileSync(PYTHON, [join(REPO, 'test/fixtures/python/network_framing.py'), join(REPO, 'python')], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: '' } })
  const results = output.trim().split('\n').map((line) => JSON.parse(line) as Case & { addresses?: unknown })
  const byName = (name: string): Case => results.find((result) => result.case === name)!

  test('an empty delta: `flushed` with 0 bytes and no chunk', () => {
    const { lines } = byName('empty')
    expect(lines).toEqual([{ t: 'flushed', id: 7, at: expect.any(Number), payload: { format: 'istanbul', bytes: 0 } }])
  })

  test('a large payload: chunks of at most 64 KB in order, then `flushed` with the UTF-8 size and the hashes; the files are discarded after', () => {
    const { lines, discarded, text } = byName('large')
    const chunks = lines.filter((line) => line.t === 'chunk')
    expect(chunks.length).toBe(3)
    for (const chunk of chunks) expect(Buffer.byteLength(chunk.data!)).toBeLessThanOrEqual(64 * 1024)
    const sent = chunks.map((chunk) => chunk.data).join('')
    // ASCII JSON on the wire: the text's é are escaped, so characters are bytes.
    expect(JSON.parse(sent)).toEqual(JSON.parse(text))
    expect(lines.at(-1)).toEqual({ t: 'flushed', id: 7, at: expect.any(Number), payload: { format: 'istanbul', bytes: Buffer.byteLength(sent), hashes: { '/app/x.py': 'ab'.repeat(20) } } })
    expect(discarded).toEqual(['/tmp/a', '/tmp/b'])
  })

  test('a failed save: `flushed` with the error, no payload, the files kept for the next flush', () => {
    const { lines, discarded } = byName('failed save')
    expect(lines).toEqual([{ t: 'flushed', id: 7, at: expect.any(Number), error: 'disk full' }])
    expect(discarded).toEqual([])
  })

  test('the collector goes away mid-payload: the error ends the connection (the agent reconnects) and the files are kept, to be sent whole with the next flush', () => {
    const { discarded, text } = byName('cut')
    expect(text).toBe('BrokenPipeError')
    expect(discarded).toEqual([])
  })

  test('SERVER_COVERAGE_CONNECT addresses', () => {
    const { addresses } = results.find((result) => result.addresses) as unknown as { addresses: unknown[] }
    expect(addresses).toEqual([['10.0.0.1', 7171], ['::1', 7171], ['127.0.0.1', 7171], null, null, null])
  })
})
