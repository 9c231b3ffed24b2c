import { rmSync } from 'node:fs'
import { afterAll, describe, expect, test } from 'vitest'
import { newMark, processesMarked } from '../e2e/harness.js'
import { makeJestProject, startJest } from '../e2e/jest-harness.js'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Polls the process table until `check` holds (there is no event for "gone"). */
async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  return check()
}

describe.each(['SIGINT', 'SIGKILL'] as const)('Jest interrupted with %s', (signal) => {
  test(`[F19] leaves no server process behind (${signal})`, async () => {
    const dir = makeJestProject('cluster')
    dirs.push(dir)
    const mark = newMark()
    const { child, result } = startJest(dir, ['--coverage', '--runInBand', 'test/api.test.js'], { WORKERS: '2', HITS: '2', HANG: '1', SERVER_MARK: mark })
    let output = ''
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        if (output.includes('HANGING')) resolve()
      }
      child.stdout!.on('data', onData)
      child.stderr!.on('data', onData)
      child.once('close', () => resolve())
    })
    expect(output, output).toContain('HANGING')
    expect(processesMarked(mark).length).toBe(3)
    child.kill(signal)
    await result
    expect(await eventually(() => processesMarked(mark).length === 0, 10_000)).toBe(true)
  })
})
