import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import getPort from 'get-port'
import { afterEach, describe, expect, test } from 'vitest'
import { REPO, eventually, fileCoverage, lineOf, makeProject, statementHits, tempDirs } from './harness.js'
import { makeHost, netnsUnavailable } from './netns.js'
import { collectFrom, startServe } from './serve-harness.js'

// Servers we did not start: the app copied to other absolute paths (like a container's /app),
// started by the test (not by server-coverage) with the network agent in NODE_OPTIONS, reporting
// over real TCP to a `serve --agents` collector — on other "hosts" (network namespaces) where the
// machine allows it, else on loopback.

const track = tempDirs()
const TOKEN = randomBytes(24).toString('hex')
const AGENT = join(REPO, 'dist', 'agent', 'preload.cjs')
const started: ChildProcess[] = []
const cleanups: (() => void)[] = []

afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL')
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** A copy of the cluster fixture's server at another absolute path, as a container image would hold it. */
function appCopy(name: string): string {
  const base = mkdtempSync(join(tmpdir(), 'sc-replicas-'))
  cleanups.push(() => rmSync(base, { recursive: true, force: true }))
  const app = join(base, name, 'app')
  mkdirSync(join(app, 'src'), { recursive: true })
  cpSync(join(REPO, 'test/fixtures/projects/cluster/server.js'), join(app, 'server.js'))
  cpSync(join(REPO, 'test/fixtures/projects/cluster/src/routes.js'), join(app, 'src/routes.js'))
  writeFileSync(join(app, 'package.json'), '{ "type": "module" }\n')
  return app
}

/** The env a user puts in a Dockerfile or compose file for a server we did not start. */
function agentEnv(collector: string, extra: Record<string, string>, token = TOKEN): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, NODE_OPTIONS: `--require ${AGENT}`, SERVER_COVERAGE_CONNECT: collector, SERVER_COVERAGE_TOKEN: token, ...extra }
}

async function answers(url: string): Promise<boolean> {
  return (await fetch(url).catch(() => undefined))?.status === 200
}

async function waitUntilServing(url: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!(await answers(url))) {
    if (Date.now() > deadline) throw new Error(`${url} never answered`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function hits(base: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${base}/hello`, { headers: { connection: 'close' } })
    expect(res.status).toBe(200)
    await res.arrayBuffer()
  }
}

/** A Node replica on loopback (for the fault tests, which need no other host). */
async function loopbackReplica(collector: string, token = TOKEN): Promise<{ base: string; child: ChildProcess }> {
  const app = appCopy('replica')
  const port = await getPort({ host: '127.0.0.1' })
  const child = spawn(process.execPath, [join(app, 'server.js')], { env: agentEnv(collector, { PORT: String(port), WORKERS: '2' }, token), stdio: 'ignore' })
  started.push(child)
  const base = `http://127.0.0.1:${port}`
  await waitUntilServing(`${base}/health`)
  return { base, child }
}

const unavailable = netnsUnavailable()
if (unavailable) console.warn(`skipping the network-namespace test: ${unavailable} (it needs root and iproute2; CI runs as root)`)

describe('network agents: servers started by something else report over TCP', () => {
  test.skipIf(unavailable !== undefined)('3 replicas x 4 workers on 3 other hosts merge into one report, their paths mapped by content', async () => {
    const dir = track(makeProject('cluster'))
    const port = await getPort()
    const serve = await startServe(dir, ['--agents', `0.0.0.0:${port}`, '--include', 'src/**', '--include', 'server.js'], { SERVER_COVERAGE_TOKEN: TOKEN })
    const requests = [10, 20, 30]
    const replicas = requests.map((_, i) => {
      const host = makeHost(i + 1)
      cleanups.push(() => host.remove())
      const app = appCopy(`replica-${i + 1}`)
      started.push(host.spawn(process.execPath, [join(app, 'server.js')], agentEnv(`${host.gateway}:${port}`, { PORT: '8080', HOST: '0.0.0.0', WORKERS: '4' })))
      return { base: `http://${host.address}:8080`, app }
    })
    for (const replica of replicas) await waitUntilServing(`${replica.base}/health`)
    expect(await eventually(() => /\(15 connected\)/.test(serve.output()), 20_000), serve.output()).toBe(true)
    for (const [i, replica] of replicas.entries()) await hits(replica.base, requests[i]!)
    const final = await collectFrom(dir, 'stop', 'final')
    expect((await serve.result).code).toBe(0)
    const routes = fileCoverage(final, dir, 'src/routes.js')
    expect(statementHits(routes, lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))).toBe(60)
    expect(statementHits(routes, lineOf(dir, 'src/routes.js', "res.end('ok')"))).toBe(3) // each replica's /health, once
    const server = fileCoverage(final, dir, 'server.js')
    expect(statementHits(server, lineOf(dir, 'server.js', 'console.log(primaryBanner'))).toBe(3) // 3 primaries
    expect(statementHits(server, lineOf(dir, 'server.js', 'http.createServer(handle)'))).toBe(12) // 3 x 4 workers
    expect(Object.keys(final).sort()).toEqual([join(dir, 'server.js'), join(dir, 'src/routes.js')])
    for (const replica of replicas) expect(serve.output()).toContain(`mapped the servers' ${replica.app}/…`)
  }, 120_000)

  test('a wrong or missing token is refused with a log line, no data is accepted, and the token is never printed', async () => {
    const dir = track(makeProject('cluster'))
    const port = await getPort({ host: '127.0.0.1' })
    const serve = await startServe(dir, ['--agents', `127.0.0.1:${port}`, '--include', 'src/**'], { SERVER_COVERAGE_TOKEN: TOKEN })
    const wrong = `${TOKEN.slice(0, -4)}beef`
    const replica = await loopbackReplica(`127.0.0.1:${port}`, wrong)
    await hits(replica.base, 5)
    expect(await eventually(() => /refused a network agent from 127\.0\.0\.1:\d+: wrong token/.test(serve.output()), 10_000), serve.output()).toBe(true)
    const snapshot = await collectFrom(dir, 'snapshot', 'snap', {})
    expect(snapshot).toEqual({})
    // No hello at all: refused too.
    const raw = connect(port, '127.0.0.1')
    raw.write('{"t":"flushed","id":1,"payload":{"format":"v8","bytes":2}}\n')
    expect(await eventually(() => /it did not say hello first/.test(serve.output()), 5000)).toBe(true)
    raw.destroy()
    await collectFrom(dir, 'stop', 'final')
    const output = (await serve.result).output
    expect(output).not.toContain(TOKEN)
    expect(output).not.toContain(wrong)
  }, 60_000)

  test('a payload cut short or malformed loses only itself; the collector keeps serving the good agents', async () => {
    const dir = track(makeProject('cluster'))
    const port = await getPort({ host: '127.0.0.1' })
    const serve = await startServe(dir, ['--agents', `127.0.0.1:${port}`, '--include', 'src/**'], { SERVER_COVERAGE_TOKEN: TOKEN })
    const good = await loopbackReplica(`127.0.0.1:${port}`)
    expect(await eventually(() => /\(3 connected\)/.test(serve.output()), 10_000)).toBe(true)
    // Fake agents: one sends half of its payload and disconnects, one sends a payload that is not JSON.
    const fake = (behaviour: 'cut' | 'garbage'): void => {
      const socket = connect(port, '127.0.0.1')
      socket.setEncoding('utf8')
      socket.write(`${JSON.stringify({ t: 'hello', token: TOKEN, pid: behaviour === 'cut' ? 90001 : 90002, ppid: 1, threadId: 0, argv: ['fake'] })}\n`)
      socket.on('data', (chunk: string) => {
        const flush = /"t":"flush","id":(\d+)/.exec(chunk)
        if (!flush) return
        const id = Number(flush[1])
        if (behaviour === 'cut') {
          socket.write(`${JSON.stringify({ t: 'chunk', id, data: '{"result":[{"scriptId":"1","url":"file:///app/x.js"' })}\n`)
          socket.destroy()
        } else {
          socket.write(`${JSON.stringify({ t: 'chunk', id, data: 'not json at all' })}\n`)
          socket.write(`${JSON.stringify({ t: 'flushed', id, payload: { format: 'v8', bytes: 15 } })}\n`)
        }
      })
      socket.on('error', () => {})
      cleanups.push(() => socket.destroy())
    }
    fake('cut')
    fake('garbage')
    expect(await eventually(() => /\(5 connected\)/.test(serve.output()), 10_000)).toBe(true)
    await hits(good.base, 8)
    const snapshot = await collectFrom(dir, 'snapshot', 'snap')
    expect(statementHits(fileCoverage(snapshot, dir, 'src/routes.js'), lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))).toBe(8)
    expect(serve.output()).toMatch(/process 90001 .* disconnected in the middle of sending its coverage: that payload is lost/)
    expect(serve.output()).toMatch(/skipped 1 unreadable coverage file/)
    // Still serving: another round works and adds up.
    await hits(good.base, 2)
    const final = await collectFrom(dir, 'stop', 'final')
    expect(statementHits(fileCoverage(final, dir, 'src/routes.js'), lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))).toBe(10)
    expect((await serve.result).code).toBe(0)
  }, 60_000)

  test('agents reconnect with backoff after a collector restart, and their server never stops serving meanwhile', async () => {
    const dir = track(makeProject('cluster'))
    const port = await getPort({ host: '127.0.0.1' })
    const args = ['--agents', `127.0.0.1:${port}`, '--include', 'src/**']
    const first = await startServe(dir, args, { SERVER_COVERAGE_TOKEN: TOKEN })
    const replica = await loopbackReplica(`127.0.0.1:${port}`)
    expect(await eventually(() => /\(3 connected\)/.test(first.output()), 10_000)).toBe(true)
    await hits(replica.base, 5)
    const before = await collectFrom(dir, 'stop', 'first')
    expect(statementHits(fileCoverage(before, dir, 'src/routes.js'), lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))).toBe(5)
    await first.result
    await hits(replica.base, 3) // no collector: the server does not notice
    const second = await startServe(dir, args, { SERVER_COVERAGE_TOKEN: TOKEN })
    expect(await eventually(() => /\(3 connected\)/.test(second.output()), 40_000), second.output()).toBe(true)
    await hits(replica.base, 7)
    const after = await collectFrom(dir, 'stop', 'second')
    // Nothing read twice: what the first collector took is not sent again; what ran while no collector listened is kept.
    expect(statementHits(fileCoverage(after, dir, 'src/routes.js'), lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))).toBe(10)
    expect(replica.child.exitCode).toBe(null)
  }, 90_000)
})
