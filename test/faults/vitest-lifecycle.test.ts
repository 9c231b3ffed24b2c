import { rmSync } from 'node:fs'
import { afterAll, describe, expect, test } from 'vitest'
import { makeProject, newMark, processesMarked, runVitest, startVitest } from '../e2e/harness.js'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function project(name: string): string {
  const dir = makeProject(name)
  dirs.push(dir)
  return dir
}

/** Resolves when `check` is true, polling the process table (there is no event for "gone"). */
async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return check()
}

test('[F17] a server that ignores SIGTERM is SIGKILLed after gracefulShutdown.timeout, and the output says so', async () => {
  const dir = project('errors')
  const mark = newMark()
  const options = { command: 'node stubborn.js', gracefulShutdown: { timeout: 500 } }
  const run = await runVitest(dir, ['run', '--coverage'], { SERVER_OPTIONS: JSON.stringify(options), SC_E2E_MARK: mark })
  expect(run.code, run.output).toBe(0)
  expect(run.output).toMatch(
    /1 process\(es\) of "server" did not exit within 500 ms of SIGTERM \(`gracefulShutdown.timeout`\) and were killed with SIGKILL: \d+ \(node stubborn\.js\)/,
  )
  expect(processesMarked(mark)).toEqual([])
})

describe.each([
  ['SIGINT', 'the exit hook kills the server group'],
  ['SIGKILL', 'the agents see the control socket close and stop their processes'],
] as const)('Vitest interrupted with %s', (signal, how) => {
  test(`[F18] leaves no server process behind (${how})`, async () => {
    const dir = project('cluster')
    const mark = newMark()
    const { child, result } = startVitest(dir, ['run', '--coverage'], { WORKERS: '2', HITS: '4', HANG: '1', SERVER_MARK: mark })
    let output = ''
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        if (output.includes('HANGING')) {
          child.stdout!.off('data', onData)
          resolve()
        }
      }
      child.stdout!.on('data', onData)
      child.once('close', () => resolve())
    })
    expect(output, output).toContain('HANGING')
    expect(processesMarked(mark).length).toBe(3)
    child.kill(signal)
    await result
    expect(await eventually(() => processesMarked(mark).length === 0, 10_000)).toBe(true)
  })
})
