import type { FileCoverageData } from 'istanbul-lib-coverage'
import { describe, expect, test } from 'vitest'
import { fileCoverage, makeProject, newMark, processesMarked, readCoverage, runVitest, tempDirs } from './harness.js'
import { JEST_VERSION, makeJestProject, runJest } from './jest-harness.js'
import { missingPythonTools } from './python-support.js'

// A Python server's coverage is not V8: Jest's v8 provider has no public route for it. These runs
// prove it reaches Jest's report anyway (through the CoverageReporter seam, src/adapters/jest/
// v8-report-route.ts), with exactly the numbers Vitest reports for the same requests.

const missing = missingPythonTools(['uwsgi'])
const track = tempDirs()

/** The parts of a file's coverage that make its numbers: maps and counts. */
const numbers = (file: FileCoverageData): Omit<FileCoverageData, 'path'> => ({ statementMap: file.statementMap, s: file.s, fnMap: file.fnMap, f: file.f, branchMap: file.branchMap, b: file.b })

describe.skipIf(missing.length > 0)(`Jest ${JEST_VERSION} with a uWSGI server: the Python file in Jest's report`, () => {
  test('v8 and babel providers both report run.py with the numbers Vitest reports; nothing left running', async () => {
    const vitestDir = track(makeProject('uwsgi-flask'))
    const vitest = await runVitest(vitestDir, ['run', '--coverage'], { ONLY_HELLO: '' })
    expect(vitest.code, vitest.output).toBe(0)
    const reference = numbers(fileCoverage(readCoverage(vitestDir), vitestDir, 'run.py'))

    for (const provider of ['v8', 'babel']) {
      const dir = track(makeJestProject('python-flask'))
      const mark = newMark()
      const run = await runJest(dir, ['--coverage'], { PROVIDER: provider, SC_E2E_MARK: mark })
      expect(run.code, run.output).toBe(0)
      expect(run.output).toMatch(/run\.py\s*\|/) // in Jest's own text table
      const jest = numbers(fileCoverage(readCoverage(dir), dir, 'run.py'))
      expect(jest, provider).toEqual(reference)
      expect(Object.values(jest.s).filter((hits) => hits > 1), provider).toEqual([]) // Coverage.py counts are 0/1, never added twice
      expect(processesMarked(mark)).toEqual([])
    }
  })
})
