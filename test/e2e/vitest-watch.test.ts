import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, startVitest, statementHits } from './harness.js'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

test('watch mode: each rerun reports the server coverage since the previous run; the server stops only at exit', async () => {
  const dir = makeProject('cluster')
  dirs.push(dir)
  const mark = newMark()
  const { child, result } = startVitest(dir, ['--watch', '--coverage'], { WORKERS: '2', HITS: '5', SERVER_MARK: mark })
  let output = ''
  const waitFor = (pattern: RegExp, count: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if ((output.match(new RegExp(pattern, 'g')) ?? []).length >= count) {
          child.stdout!.off('data', check)
          child.stderr!.off('data', check)
          resolve()
        }
      }
      child.stdout!.on('data', check)
      child.stderr!.on('data', check)
      child.once('close', () => reject(new Error(`Vitest exited early:\n${output}`)))
      check()
    })
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))

  // Vitest writes coverage-final.json after our "collected" line; "Waiting for file changes" follows it.
  await waitFor(/Waiting for file changes/, 1)
  const hello = (): number | undefined =>
    statementHits(fileCoverage(readCoverage(dir), dir, 'src/routes.js'), lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))
  expect(hello(), output).toBe(5)
  const serverPids = processesMarked(mark).sort()
  expect(serverPids).toHaveLength(3)

  // Change the test to make 2 requests: the rerun reports those 2 only, from the same server.
  const testFile = join(dir, 'test', 'api.test.js')
  writeFileSync(testFile, readFileSync(testFile, 'utf8').replace("Number(process.env.HITS ?? 40)", '2'))
  await waitFor(/Waiting for file changes/, 2)
  expect(hello(), output).toBe(2)
  expect(processesMarked(mark).sort()).toEqual(serverPids)
  expect(output.match(/starting "node server.js"/g)).toHaveLength(1)

  child.kill('SIGINT')
  await result
  expect(processesMarked(mark)).toEqual([])
})
