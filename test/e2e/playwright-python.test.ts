import type { FileCoverageData } from 'istanbul-lib-coverage'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { lineOf, statementHits, tempDirs } from './harness.js'
import { makePlaywrightProject, readCoverageFile, runPlaywright } from './playwright-harness.js'
import { coveragePyTotals, missingPythonTools } from './python-support.js'

const missing = missingPythonTools(['gunicorn'])
const track = tempDirs()

describe.skipIf(missing.length > 0)('Playwright with a Python webServer', () => {
  test('gunicorn (2 workers) booted under Coverage.py on a free port, with baseURL set to match; app.py in the report', async () => {
    const dir = track(makePlaywrightProject('gunicorn'))
    const run = await runPlaywright(dir, [])
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/looks like a Python server/)
    const app = readCoverageFile(dir)[join(dir, 'app.py')] as FileCoverageData
    expect(statementHits(app, lineOf(dir, 'app.py', 'return jsonify(pid'))).toBe(1)
    expect(statementHits(app, lineOf(dir, 'app.py', "BOOT_MESSAGE = 'import-time line'"))).toBe(1)
    expect(statementHits(app, lineOf(dir, 'app.py', "'never called by the tests'"))).toBe(0)
    // The same totals Coverage.py itself computes.
    const totals = coveragePyTotals(run.output)
    expect(Object.values(app.s).filter((hits) => hits > 0)).toHaveLength(totals.covered)
    expect(Object.keys(app.s)).toHaveLength(totals.statements)
  })
})
