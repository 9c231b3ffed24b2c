import { describe, expect, test } from 'vitest'
import { eventually, makeProject, newMark, processesMarked, runVitest, startVitest, tempDirs, watchOutput } from '../e2e/harness.js'

const track = tempDirs()

function project(name: string): string {
  const dir = makeProject(name)
  track(dir)
  return dir
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
    await watchOutput(child).waitFor(/HANGING/)
    expect(processesMarked(mark).length).toBe(3)
    child.kill(signal)
    await result
    expect(await eventually(() => processesMarked(mark).length === 0, 10_000)).toBe(true)
  })
})
