import type { FileCoverageData } from 'istanbul-lib-coverage'
import { existsSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
// The BUILT package, not src/: session.ts finds the agent next to itself as `agent/preload.cjs`,
// which exists only in dist/ (src/ has preload.cts). Run `npm run build` first.
import type { CoverageSession as ServerCoverageSession } from '../../dist/index.js'
import { startServerCoverage } from '../../dist/index.js'

const SERVERS = fileURLToPath(new URL('../fixtures/servers/', import.meta.url))
const HELLO = fileURLToPath(new URL('../fixtures/servers/hello.mjs', import.meta.url))
const lineOf = (marker: string): number => readFileSync(HELLO, 'utf8').split('\n').findIndex((line) => line.includes(marker)) + 1
const HANDLER_LINE = lineOf('HELLO_HANDLER')
const LISTEN_LINE = lineOf('server.listen(')

let session: ServerCoverageSession | undefined
const log: string[] = []

beforeAll(() => {
  if (!existsSync(fileURLToPath(new URL('../../dist/agent/preload.cjs', import.meta.url)))) {
    throw new Error('dist/ is missing or incomplete: run `npm run build` before these tests')
  }
})

afterAll(async () => {
  await session?.stop()
})

/** GET `url`, resolving with the body. */
function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve(body))
    })
      .on('error', reject)
      .end()
  })
}

/** Whether something accepts TCP connections on `port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

function lineHits(file: FileCoverageData | undefined, line: number): number | undefined {
  if (!file) return undefined
  const id = Object.entries(file.statementMap).find(([, range]) => range.start.line === line)?.[0]
  return id === undefined ? undefined : file.s[id]
}
const handlerHits = (file: FileCoverageData | undefined): number | undefined => lineHits(file, HANDLER_LINE)

describe('startServerCoverage (built package, real server)', () => {
  // Boot → 7 requests → collect gives 7 on the handler line, then nothing (deltas), then 1 → stop frees the port.
  test('collect returns per-call deltas and stop leaves nothing listening', async () => {
    session = await startServerCoverage(
      { command: `${process.execPath} hello.mjs`, cwd: SERVERS, timeout: 20_000 },
      { log: (line) => log.push(line) },
    )
    const baseUrl = session.urls.server!
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const port = Number(new URL(baseUrl).port)
    expect(log.some((line) => line.includes('(1 process registered so far)'))).toBe(true)

    const bodies: string[] = []
    for (let i = 0; i < 7; i++) bodies.push(await get(`${baseUrl}/hello`))
    expect(bodies.at(-1)).toBe('hello 7')

    // the handler ran 7 times; only the fixture is reported (the agent in dist/ is never)
    const first = await session.collect()
    expect(Object.keys(first.data)).toEqual([HELLO])
    expect(handlerHits(first.data[HELLO] as FileCoverageData)).toBe(7)
    // two files: the warm-up checkpoint the session takes right after ready, and this flush
    expect({ processes: first.processes, files: first.files, unanswered: first.unanswered }).toEqual({ processes: 1, files: 2, unanswered: 0 })

    // nothing ran since: the process still writes a file, but V8 leaves scripts without executions
    // since the last flush out of it, so the delta has no entry for the fixture (i.e. 0 everywhere)
    const second = await session.collect()
    expect(second.files).toBe(1)
    expect(second.data).toEqual({})

    // one more request: the delta holds exactly that call, and the top level (run at startup) counts 0
    await get(`${baseUrl}/hello`)
    const third = (await session.collect()).data[HELLO] as FileCoverageData
    expect(handlerHits(third)).toBe(1)
    expect(lineHits(third, LISTEN_LINE)).toBe(0)
    expect(lineHits(first.data[HELLO] as FileCoverageData, LISTEN_LINE)).toBe(1)

    await session.stop()
    expect(await accepts(port)).toBe(false)
    expect(log.some((line) => line.includes('killed with SIGKILL'))).toBe(false)
    // stop is idempotent
    await session.stop()
  })
})
