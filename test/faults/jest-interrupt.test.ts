import { describe, expect, test } from 'vitest'
import { eventually, newMark, processesMarked, tempDirs, watchOutput } from '../e2e/harness.js'
import { makeJestProject, startJest } from '../e2e/jest-harness.js'

const track = tempDirs()


describe.each(['SIGINT', 'SIGKILL'] as const)('Jest interrupted with %s', (signal) => {
  test(`[F19] leaves no server process behind (${signal})`, async () => {
    const dir = makeJestProject('cluster')
    track(dir)
    const mark = newMark()
    const { child, result } = startJest(dir, ['--coverage', '--runInBand', 'test/api.test.js'], { WORKERS: '2', HITS: '2', HANG: '1', SERVER_MARK: mark })
    await watchOutput(child).waitFor(/HANGING/)
    expect(processesMarked(mark).length).toBe(3)
    child.kill(signal)
    await result
    expect(await eventually(() => processesMarked(mark).length === 0, 10_000)).toBe(true)
  })
})
