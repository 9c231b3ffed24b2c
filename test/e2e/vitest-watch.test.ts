import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, startVitest, statementHits, tempDirs, watchOutput } from './harness.js'

const track = tempDirs()

test('watch mode: each rerun reports the server coverage since the previous run; the server stops only at exit', async () => {
  const dir = makeProject('cluster')
  track(dir)
  const mark = newMark()
  const { child, result } = startVitest(dir, ['--watch', '--coverage'], { WORKERS: '2', HITS: '5', SERVER_MARK: mark })
  const output = watchOutput(child)

  // Vitest writes coverage-final.json after our "collected" line; "Waiting for file changes" follows it.
  await output.waitFor(/Waiting for file changes/, 1)
  const hello = (): number | undefined =>
    statementHits(fileCoverage(readCoverage(dir), dir, 'src/routes.js'), lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))
  expect(hello(), output.text()).toBe(5)
  const serverPids = processesMarked(mark).sort()
  expect(serverPids).toHaveLength(3)

  // Change the test to make 2 requests: the rerun reports those 2 only, from the same server.
  const testFile = join(dir, 'test', 'api.test.js')
  writeFileSync(testFile, readFileSync(testFile, 'utf8').replace("Number(process.env.HITS ?? 40)", '2'))
  await output.waitFor(/Waiting for file changes/, 2)
  expect(hello(), output.text()).toBe(2)
  expect(processesMarked(mark).sort()).toEqual(serverPids)
  expect(output.text().match(/starting "node server.js"/g)).toHaveLength(1)

  child.kill('SIGINT')
  await result
  expect(processesMarked(mark)).toEqual([])
})
