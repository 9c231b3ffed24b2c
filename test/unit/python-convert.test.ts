import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import type { ConverterOutput } from '../../src/runtimes/python/read.js'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { coveragerc } from '../../src/runtimes/python/config.js'
import { PYTHON_DIR } from '../../src/runtimes/python/files.js'
import { runConverter } from '../../src/runtimes/python/read.js'
import { REPO, copyFixture, lineOf, statementHits, tempDirs } from '../e2e/harness.js'
import { PYTHON, coverageReport, expectSameAsCoverageReport, missingPythonTools } from '../e2e/python-support.js'

// python/to_istanbul.py on real Coverage.py data: the Flask fixture's requests run in-process under
// `coverage run` (with the config the runtime writes), then converted and held against what
// `coverage report` says about the same data files.

const missing = missingPythonTools([])
const track = tempDirs()
const python = { path: PYTHON, fromOption: false }

/** Decorated `def` lines plus stacked decorator lines of app.py, 2 arcs each (see python-support.ts). */
const APP_DECORATOR_LINES = 9

describe.skipIf(missing.length > 0)('the Python converter on real Coverage.py data', () => {
  let dir = ''
  let dataDir = ''
  let rc = ''
  let output: ConverterOutput
  let app: FileCoverageData

  /** `coverage run` of the fixture's reference driver with our config; returns the new data files. */
  function coverageRun(requests: string[]): string[] {
    writeFileSync(join(dir, 'requests.json'), JSON.stringify(requests))
    const before = new Set(readdirSync(dataDir))
    execFileSync(PYTHON, ['-m', 'coverage', 'run', `--rcfile=${rc}`, 'reference/drive.py'], { cwd: dir, env: { ...process.env, PYTHONPATH: '' }, stdio: 'pipe' })
    return readdirSync(dataDir).filter((name) => !before.has(name)).map((name) => join(dataDir, name))
  }

  beforeAll(async () => {
    mkdirSync(join(REPO, '.e2e-tmp'), { recursive: true })
    dir = track(mkdtempSync(join(REPO, '.e2e-tmp', 'python-convert-')))
    copyFixture(join(REPO, 'test', 'fixtures', 'projects', 'python-flask-shapes'), dir)
    dataDir = join(dir, 'data')
    mkdirSync(dataDir)
    rc = join(dir, 'coveragerc')
    writeFileSync(rc, coveragerc([dir], join(dataDir, '.coverage'), PYTHON_DIR))
    const files = coverageRun(['/items', '/items?n=4,5,6', '/items?n=1', '/page', '/feed', '/wait'])
    output = await runConverter(python, { configFile: rc, cwd: dir, files })
    app = output.files[join(dir, 'app.py')]!
  })

  test('totals equal `coverage report` on the same data, file by file, minus the decorator arcs', () => {
    expectSameAsCoverageReport(expect, output.files as CoverageMapData, coverageReport(dataDir, dir), {
      [join(dir, 'app.py')]: { total: 2 * APP_DECORATOR_LINES, covered: 2 * APP_DECORATOR_LINES },
    })
    // The converter's own count of Coverage.py's numbers says the same.
    expect(output.totals.decorator_branches).toBe(2 * APP_DECORATOR_LINES)
  })

  test('a multi-line condition, comprehensions and generator expressions are 2-way branches, not 3-way', () => {
    const branches = Object.entries(app.branchMap).map(([id, branch]) => ({ line: branch.line, hits: app.b[id] }))
    expect(branches.every(({ hits }) => hits?.length === 2)).toBe(true)
    const condition = lineOf(dir, 'app.py', 'if (len(numbers) > 2')
    expect(branches.find(({ line }) => line === condition)?.hits).toEqual([1, 1])
    for (const marker of ['numbers = [int(n)', 'evens = {n for n', 'total = sum(n * n', 'parts = [part async for']) {
      expect(branches.find(({ line }) => line === lineOf(dir, 'app.py', marker))?.hits, marker).toEqual([1, 1])
    }
    // The whole condition is one statement: its range ends on its second line.
    const range = Object.values(app.statementMap).find((r) => r.start.line === condition)
    expect(range?.end.line).toBe(condition + 1)
  })

  test('functions from the ast: hit when a statement of their own body ran', () => {
    const functions = Object.fromEntries(Object.entries(app.fnMap).map(([id, fn]) => [fn.name, app.f[id]]))
    expect(functions).toEqual({ logged: 1, wrapper: 1, __init__: 1, size: 1, items: 1, page: 1, feed: 1, wait: 1, countdown: 1, never: 0 })
  })

  test('Jinja templates (.html, .xml) Coverage.py recorded are skipped silently', () => {
    const listFiles = 'import sys\nfrom coverage.data import CoverageData\nfor path in sys.argv[1:]:\n    data = CoverageData(path)\n    data.read()\n    print(*data.measured_files(), sep="\\n")'
    const recorded = execFileSync(PYTHON, ['-c', listFiles, ...readdirSync(dataDir).map((name) => join(dataDir, name))], { encoding: 'utf8' })
    expect(recorded).toContain(join(dir, 'templates', 'page.html'))
    expect(recorded).toContain(join(dir, 'templates', 'feed.xml'))
    expect(Object.keys(output.files).filter((path) => !path.endsWith('.py'))).toEqual([])
    expect(output.skipped).toEqual([])
  })

  test('one read converts only the files it is given: a second run of other requests', async () => {
    const second = coverageRun(['/page'])
    const read = await runConverter(python, { configFile: rc, cwd: dir, files: second })
    const file = read.files[join(dir, 'app.py')]!
    expect(statementHits(file, lineOf(dir, 'app.py', "return render_template('page.html'"))).toBe(1)
    expect(statementHits(file, lineOf(dir, 'app.py', 'total = sum(n * n'))).toBe(0)
    expect(Object.values(file.s).every((hits) => hits === 0 || hits === 1)).toBe(true)
  })

  test('an unreadable data file is named, the others are converted', async () => {
    const bad = join(dataDir, '.coverage.host.1.2.3')
    writeFileSync(bad, 'not a database, but long enough to be opened as one by SQLite: '.repeat(100))
    const files = coverageRun(['/feed'])
    const read = await runConverter(python, { configFile: rc, cwd: dir, files: [bad, ...files] })
    expect(read.corrupt.map((problem) => problem.file)).toEqual([bad])
    expect(statementHits(read.files[join(dir, 'app.py')]!, lineOf(dir, 'app.py', "body = render_template('feed.xml'"))).toBe(1)
  })
})
