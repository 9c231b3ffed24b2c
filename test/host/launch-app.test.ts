import type { LaunchedServer } from '../../src/launch/launch.js'
import getPort from 'get-port'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ServerCoverageError } from '../../src/errors.js'
import { launchServer, stopServer } from '../../src/launch/launch.js'
import { listGroup } from '../../src/launch/process-group.js'
import { probePort } from '../../src/launch/ready.js'
import { resolveServerOptions } from '../../src/options.js'
import { HOST_SCRIPT, ROOT, assertBuilt, collectWorkerPids, fixture, occurrences } from './host-process.js'

// The launcher's side of `app`: the real launchServer/stopServer spawning the real built host (no
// session, no coverage agent), so what readiness and failures look like to a user is tested here.

const launched: Array<{ server: LaunchedServer; options: ReturnType<typeof resolveServerOptions> }> = []

beforeAll(assertBuilt)
afterEach(async () => {
  for (const { server, options } of launched.splice(0)) await stopServer(server, options)
})

function appOptions(app: string, extra: Record<string, unknown> = {}): ReturnType<typeof resolveServerOptions> {
  return resolveServerOptions({ app, workers: 4, ...extra }, ROOT)
}

async function launch(options: ReturnType<typeof resolveServerOptions>): Promise<LaunchedServer> {
  const server = await launchServer(options, { env: {}, hostScript: HOST_SCRIPT })
  launched.push({ server, options })
  return server
}

async function launchError(options: ReturnType<typeof resolveServerOptions>): Promise<ServerCoverageError> {
  const error = await launch(options).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(ServerCoverageError)
  return error as ServerCoverageError
}

describe('launching an app', { timeout: 30_000 }, () => {
  it('is ready when every worker listens, and says how many', async () => {
    const options = appOptions(fixture('express-app.cjs'))
    const server = await launch(options)
    expect(server.workers).toEqual({ listening: 4, total: 4 })
    expect((await collectWorkerPids(server.port, 4)).size).toBe(4)
    expect(listGroup(server.pgid)).toHaveLength(5)
    launched.pop()
    expect((await stopServer(server, options)).forced).toEqual([])
    expect(listGroup(server.pgid)).toEqual([])
  })

  it('also waits for `url` when given', async () => {
    const server = await launch(appOptions(fixture('express-app.cjs'), { url: '/hello', workers: 2 }))
    expect(server.workers).toEqual({ listening: 2, total: 2 })
  })

  it('finishes before the session\'s SIGKILL when a request outlives gracefulShutdown.timeout', async () => {
    const options = appOptions(fixture('express-app.cjs'), { workers: 2, gracefulShutdown: { timeout: 1200 } })
    const server = await launch(options)
    const printed = (text: string): Promise<void> =>
      new Promise((resolve) => server.child.stderr?.on('data', (chunk: Buffer) => chunk.toString().includes(text) && resolve()))
    const started = printed('slow request started')
    const forcedOut = printed('still busy 900 ms after the stop; exiting')
    const hanging = fetch(`${server.baseUrl}/slow?ms=60000`).catch(() => 'reset')
    await started
    launched.pop()
    const stopped = await stopServer(server, options)
    // The host's deadline (900 ms) came first: every process exited by itself, none was SIGKILLed.
    expect(stopped.forced).toEqual([])
    expect(await server.exited).toEqual({ code: 1, signal: null })
    expect(await hanging).toBe('reset')
    await forcedOut
  })
})

describe('an app that cannot start: one error, with the output tail', { timeout: 30_000 }, () => {
  it('listens by itself at load time: names the port and the guard', async () => {
    const guardPort = await getPort({ host: '127.0.0.1' })
    const error = await launchError(appOptions(fixture('guards/broken/listens-at-load.cjs'), { env: { GUARD_PORT: String(guardPort) } }))
    expect(error.code).toBe('APP_INVALID')
    expect(error.message).toMatch(
      new RegExp(`^server-coverage: the \`app\` module test/fixtures/apps/guards/broken/listens-at-load.cjs started listening on port ${guardPort} by itself while it was loading\\.`),
    )
    expect(error.message).toContain('`if (require.main === module) { app.listen(…) }`')
    expect(occurrences(error.message, 'started listening')).toBe(1)
    expect(error.message).toContain('\n(the server printed nothing to stderr/stdout)')
    expect(await probePort(guardPort)).toBe(false)
  })

  it('exports no app: what was tried, once for 4 workers', async () => {
    const error = await launchError(appOptions(fixture('bad-export.mjs')))
    expect(error.code).toBe('APP_INVALID')
    expect(occurrences(error.message, 'does not export an app to serve')).toBe(1)
  })

  it('a worker dies before listening: its exit code, then its stderr', async () => {
    const error = await launchError(appOptions(fixture('exits-on-load.cjs'), { workers: 2 }))
    expect(error.code).toBe('SERVER_EXITED')
    expect(error.message).toMatch(/exited with code 3 before it was listening; see its output below\.\nLast server output:\n {2}\| cannot reach the database/)
  })

  it('`appExport` names a missing export', async () => {
    const error = await launchError(appOptions(fixture('guards/esm-factory.mjs'), { appExport: 'makeApp', workers: 1 }))
    expect(error.code).toBe('APP_INVALID')
    expect(error.message).toContain('(tried export makeApp, export default.makeApp; its exports: createApp, default)')
  })

})
