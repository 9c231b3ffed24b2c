import { createServer } from 'node:net'
import { describe, expect, test } from 'vitest'
import { makeProject, newMark, processesMarked, runVitest, tempDirs } from '../e2e/harness.js'

const track = tempDirs()

async function runWith(options: unknown, extraEnv: Record<string, string> = {}): Promise<{ output: string; code: number | null; leftovers: number[] }> {
  const dir = makeProject('errors')
  track(dir)
  const mark = newMark()
  const run = await runVitest(dir, ['run', '--coverage'], { SERVER_OPTIONS: JSON.stringify(options), SC_E2E_MARK: mark, ...extraEnv })
  return { output: run.output, code: run.code, leftovers: processesMarked(mark) }
}

describe('a server that cannot start gives a clear error and leaves nothing running', () => {
  test('[F11] command not found', async () => {
    const run = await runWith({ command: 'no-such-server --port 1' })
    expect(run.code).toBe(1)
    expect(run.output).toContain('the `command` option "no-such-server --port 1" could not start: "no-such-server" was not found')
    expect(run.leftovers).toEqual([])
  })

  test('[F12] command not found through a shell', async () => {
    const run = await runWith({ command: 'no-such-server && echo never' })
    expect(run.code).toBe(1)
    expect(run.output).toContain('exited with code 127 before it was ready. The shell could not find the command')
    expect(run.output).toMatch(/\| .*no-such-server: not found/)
  })

  test('[F13] exits before it is ready, with the tail of its stderr', async () => {
    const run = await runWith({ command: 'node exits.js' })
    expect(run.code).toBe(1)
    expect(run.output).toContain('the server "node exits.js" exited with code 3 before it was ready')
    expect(run.output).toContain('| fatal: cannot read config/database.yml')
    expect(run.leftovers).toEqual([])
  })

  test('[F14] never ready within `timeout`', async () => {
    const run = await runWith({ command: 'node silent.js', url: '/health', timeout: 1500 })
    expect(run.code).toBe(1)
    expect(run.output).toMatch(/was not ready within 1500 ms \(the `timeout` option\): http:\/\/127\.0\.0\.1:\d+\/health did not answer/)
    expect(run.output).toContain('| listening on the wrong port')
    expect(run.leftovers).toEqual([])
  })

  test('[F15] port in use', async () => {
    const blocker = createServer().listen(0, '127.0.0.1')
    await new Promise((resolve) => blocker.once('listening', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const run = await runWith({ command: 'node silent.js', port })
      expect(run.code).toBe(1)
      expect(run.output).toContain(`port ${port} is already in use`)
      expect(run.output).toContain('remove the `port` option')
      expect(run.leftovers).toEqual([])
    } finally {
      blocker.close()
    }
  })
})

describe('invalid options name the option, the expected value and what was given', () => {
  test.each([
    [{ command: 42 }, 'expected the `command` option to be a non-empty string, got `42` (number)'],
    [{ command: 'node x.js', timeout: -1 }, 'expected the `timeout` option to be an integer from 1 to'],
    [{ command: 'node x.js', prot: 3000 }, 'unknown option `prot`'],
    [{ app: './app.js', command: 'node x.js' }, 'give exactly one of the `command` option'],
    [{ command: 'node x.js', gracefulShutdown: { signal: 'SIGKILL' } }, "expected the `gracefulShutdown.signal` option to be one of 'SIGTERM', 'SIGINT', 'SIGHUP', got `SIGKILL` (string)"],
  ])('[F16] %j', async (options, message) => {
    const run = await runWith(options)
    expect(run.code).toBe(1)
    expect(run.output).toContain(message)
  })
})
