import type { Server } from 'node:net'
import { createServer } from 'node:net'
import getPort from 'get-port'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { probePort } from '../../src/launch/ready.js'
import { assertBuilt, collectWorkerPids, fixture, isAlive, occurrences, startHost } from './host-process.js'

const blockers: Server[] = []

beforeAll(assertBuilt)
afterEach(async () => {
  await Promise.all(blockers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

describe('the app host: serving and stopping', { timeout: 30_000 }, () => {
  it('serves an Express app from 2 workers and shuts down gracefully on SIGTERM to the primary', async () => {
    const host = await startHost(fixture('express-app.cjs'))
    const [, url] = await host.waitForStderr(/server-coverage host: 2 workers listening on (\S+)\n/)
    expect(url).toBe(`http://127.0.0.1:${host.port}`)

    const pids = await collectWorkerPids(host.port)
    expect(pids.size).toBe(2)
    expect(pids.has(host.pid)).toBe(false)

    host.child.kill('SIGTERM')
    expect(await host.closed).toEqual({ code: 0, signal: null })
    for (const pid of pids) expect(isAlive(pid)).toBe(false)
    expect(host.stderr()).not.toContain('unexpectedly')
  })

  it('finishes an in-flight request when the whole process group gets SIGTERM (as the launcher does)', async () => {
    const host = await startHost(fixture('express-app.cjs'))
    await host.waitForStderr(/workers listening/)
    const slow = fetch(`http://127.0.0.1:${host.port}/slow?ms=700`)
    await host.waitForStderr(/slow request started in (\d+)/)

    process.kill(-host.pid, 'SIGTERM')
    const response = await slow
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ slow: true })
    expect(await host.closed).toEqual({ code: 0, signal: null })
    expect(host.stderr()).not.toMatch(/unexpectedly|Error/)
  })

  it('never calls a stopped worker "unexpected", even when its exit is seen before the stop signal reaches the primary', async () => {
    // The race of issue 10, made deterministic: the stop signal reaches the workers and the primary
    // never gets one, so the primary sees every worker's exit "before" its own signal.
    const host = await startHost(fixture('express-app.cjs'))
    await host.waitForStderr(/workers listening/)
    const pids = await collectWorkerPids(host.port)
    for (const pid of pids) process.kill(pid, 'SIGTERM')
    expect(await host.closed).toEqual({ code: 0, signal: null })
    expect(host.stderr()).not.toContain('unexpectedly')
  })

  it('serves a default-exported (req, res) handler and stops on SIGINT', async () => {
    const host = await startHost(fixture('handler.mjs'))
    await host.waitForStderr(/2 workers listening/)
    const response = await fetch(`http://127.0.0.1:${host.port}/anything`)
    expect(await response.text()).toBe('ok')
    host.child.kill('SIGINT')
    expect(await host.closed).toEqual({ code: 0, signal: null })
  })

  it('logs a worker that dies, does not respawn it, and exits 1 at shutdown', async () => {
    const host = await startHost(fixture('express-app.cjs'))
    await host.waitForStderr(/workers listening/)
    const [victim, survivor] = [...(await collectWorkerPids(host.port))] as [number, number]
    process.kill(victim, 'SIGKILL')
    await host.waitForStderr(new RegExp(`worker ${victim} exited unexpectedly \\(code null, signal SIGKILL\\); not respawning`))

    // Every request now lands on the survivor: no replacement worker was forked.
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`http://127.0.0.1:${host.port}/hello`, { headers: { Connection: 'close' } })
      expect(await response.json()).toEqual({ pid: survivor })
    }
    host.child.kill('SIGTERM')
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(isAlive(survivor)).toBe(false)
  })
})

describe('the app host: reporting to the launcher', { timeout: 30_000 }, () => {
  it('says "ready" once every worker listens, with the counts, and prints nothing', async () => {
    const host = await startHost(fixture('express-app.cjs'), { workers: 3, ipc: true })
    expect(await host.waitForMessage('ready')).toEqual({ t: 'ready', listening: 3, total: 3, port: host.port })
    expect(host.messages.filter((message) => message.t === 'progress')).toEqual([
      { t: 'progress', listening: 1, total: 3 },
      { t: 'progress', listening: 2, total: 3 },
    ])
    expect((await collectWorkerPids(host.port, 3)).size).toBe(3)
    process.kill(-host.pid, 'SIGTERM')
    expect(await host.closed).toEqual({ code: 0, signal: null })
    expect(host.stderr()).toBe('')
  })

  it('reports ONE failure when every worker finds the same bad export', async () => {
    const host = await startHost(fixture('bad-export.mjs'), { workers: 4, ipc: true })
    const failed = await host.waitForMessage('failed')
    expect(failed.code).toBe('APP_INVALID')
    expect(failed.message).toContain('the `app` module test/fixtures/apps/bad-export.mjs does not export an app to serve')
    expect(failed.message).toContain('export default: number (42)')
    expect(failed.message).toContain('Set the `appExport` option')
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(host.messages.filter((message) => message.t === 'failed')).toHaveLength(1)
    expect(host.stderr()).toBe('')
  })

  it('reports a worker that exits before it listens, with its exit code (its output is in the tail)', async () => {
    const host = await startHost(fixture('exits-on-load.cjs'), { ipc: true })
    const failed = await host.waitForMessage('failed')
    expect(failed).toMatchObject({ code: 'SERVER_EXITED' })
    expect(failed.message).toMatch(/^a worker \(pid \d+\) of the `app` module test\/fixtures\/apps\/exits-on-load.cjs exited with code 3 before it was listening/)
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(host.stderr()).toContain('cannot reach the database')
  })
})

describe('the app host: failures, printed once when started by hand', { timeout: 30_000 }, () => {
  it('names the module and what it found when the export is not an app', async () => {
    const host = await startHost(fixture('bad-export.mjs'), { workers: 3 })
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(occurrences(host.stderr(), 'does not export an app to serve')).toBe(1)
    expect(host.stderr()).toContain('(tried export default, export app, export handler, export default.app, export default.handler; its exports: default)')
    expect(host.stderr()).not.toContain('workers listening')
  })

  it('gives the import error with its stack, once', async () => {
    const host = await startHost(fixture('throws-on-import.mjs'), { workers: 3 })
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(occurrences(host.stderr(), 'threw while loading: Error: fixture exploded on import')).toBe(1)
    expect(host.stderr()).toMatch(/at .*throws-on-import\.mjs:2/)
  })

  it('names the port an app took by itself at load time, and the start guard to add', async () => {
    const guardPort = await getPort({ host: '127.0.0.1' })
    const host = await startHost(fixture('guards/broken/listens-at-load.cjs'), { workers: 3, env: { GUARD_PORT: String(guardPort) } })
    expect(await host.closed).toEqual({ code: 1, signal: null })
    const stderr = host.stderr()
    expect(occurrences(stderr, 'started listening')).toBe(1)
    expect(stderr).toContain(`the \`app\` module test/fixtures/apps/guards/broken/listens-at-load.cjs started listening on port ${guardPort} by itself while it was loading`)
    expect(stderr).toContain('`if (require.main === module) { app.listen(…) }`')
    expect(await probePort(guardPort)).toBe(false) // nothing holds it after the failed start
  })

  it('says when the port is taken', async () => {
    const port = await getPort({ host: '127.0.0.1' })
    const blocker = createServer()
    blockers.push(blocker)
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))

    const host = await startHost(fixture('handler.mjs'), { port })
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(occurrences(host.stderr(), `port ${port} on 127.0.0.1 is already in use`)).toBe(1)
    expect(host.stderr()).not.toContain('workers listening')
  })

  it('refuses a configuration without the launcher', async () => {
    const host = await startHost(fixture('handler.mjs'), { workers: 0 })
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(host.stderr()).toContain('SERVER_COVERAGE_HOST.workers must be an integer from 1 to 1024, got 0')
  })
})
