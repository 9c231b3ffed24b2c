import type { FileCoverageData } from 'istanbul-lib-coverage'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { fileCoverage, lineOf, makeProject, newMark, processesMarked, readCoverage, REPO, runCli, runVitest, statementHits, tempDirs } from './harness.js'
import { makeJestProject, runJest } from './jest-harness.js'
import { missingPythonTools } from './python-support.js'

// The original recipe, verbatim: its run.ini (`http=0.0.0.0:5001`, `chdir`, `wsgi-file=run.py`,
// `callable=app`, `processes=4`, `threads=2`, no `plugins`, no `master`) and its run.py, through
// Vitest, Jest and the CLI with `port: 5001`. Debian's modular uWSGI needs the http and python3
// plugins the ini does not name: the session adds them as UWSGI_PLUGINS and says so. The three runs
// share the fixed port, so they run one after another (this file only).

const missing = missingPythonTools(['uwsgi'])
const track = tempDirs()
const RECIPE = join(REPO, 'test', 'fixtures', 'projects', 'python-recipe')

/** The fixture's ini says `chdir=/srv/app`, the recipe author's own folder: point it at the copy. */
function useFolder(dir: string): string {
  const ini = join(dir, 'run.ini')
  const text = readFileSync(ini, 'utf8')
  expect(text).toBe(readFileSync(join(RECIPE, 'run.ini'), 'utf8'))
  writeFileSync(ini, text.replace('chdir=/srv/app\n', `chdir=${dir}\n`))
  return dir
}

/** The parts of a file's coverage that make its numbers. */
const numbers = (file: FileCoverageData): Omit<FileCoverageData, 'path'> => ({ statementMap: file.statementMap, s: file.s, fnMap: file.fnMap, f: file.f, branchMap: file.branchMap, b: file.b })

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)))
  })
}

/** run.py as the recipe's requests leave it: both routes, every line they run exactly once. */
function expectRecipeCoverage(dir: string): FileCoverageData {
  const run = fileCoverage(readCoverage(dir), dir, 'run.py')
  for (const marker of ['app = Flask(__name__)', "return 'Hello from uWSGI'", "return {'message': 'hello'", "return f'hello, {name}'", 'if not name:']) {
    expect(statementHits(run, lineOf(dir, 'run.py', marker)), marker).toBe(1)
  }
  expect(statementHits(run, lineOf(dir, 'run.py', "return 'hello, nobody'"))).toBe(0)
  expect(Object.values(run.s).filter((hits) => hits !== 0 && hits !== 1)).toEqual([])
  expect(Object.values(run.b).flat().filter((hits) => hits !== 0 && hits !== 1)).toEqual([])
  return run
}

const PLUGINS_LINE = 'uWSGI: adding the http and python3 plugins the ini does not load (UWSGI_PLUGINS=http,python3; the ini is unchanged)'

describe.skipIf(missing.length > 0)('the original recipe, verbatim (run.ini without plugins or master, port 5001)', () => {
  let reference: Omit<FileCoverageData, 'path'> | undefined

  test('Vitest: the 4 workers serve and are measured; nothing left running, the port free again', async () => {
    expect(await portIsFree(5001), 'port 5001 must be free for this test').toBe(true)
    const dir = useFolder(track(makeProject('python-recipe')))
    const mark = newMark()
    const run = await runVitest(dir, ['run', '--coverage'], { SERVER_MARK: mark })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain(PLUGINS_LINE)
    expect(run.output).toContain('ready at http://127.0.0.1:5001')
    expect(run.output).toMatch(/collected coverage from 4 processes, 1 file/)
    reference = numbers(expectRecipeCoverage(dir))
    expect(processesMarked(mark)).toEqual([])
    expect(await portIsFree(5001)).toBe(true)
  })

  for (const provider of ['babel', 'v8']) {
    test(`Jest (${provider} provider): the same numbers as Vitest`, async () => {
      const dir = useFolder(track(makeJestProject('python-recipe')))
      const mark = newMark()
      const run = await runJest(dir, ['--coverage'], { SERVER_MARK: mark, PROVIDER: provider })
      expect(run.code, run.output).toBe(0)
      expect(run.output).toContain(PLUGINS_LINE)
      expect(run.output).toMatch(/run\.py\s*\|/) // in Jest's own text table
      expect(numbers(expectRecipeCoverage(dir))).toEqual(reference)
      expect(processesMarked(mark)).toEqual([])
    })
  }

  test('Vitest without --coverage: the same ini runs (plugins added, no Coverage.py) and stops', async () => {
    const dir = useFolder(track(makeProject('python-recipe')))
    const mark = newMark()
    const run = await runVitest(dir, ['run'], { SERVER_MARK: mark })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain(PLUGINS_LINE)
    expect(run.output).toContain('(coverage off)')
    expect(run.output).not.toContain('Coverage.py')
    expect(processesMarked(mark)).toEqual([])
    expect(await portIsFree(5001)).toBe(true)
  })

  test('CLI: every hit line counts exactly 1 in coverage-final.json, the same numbers as Vitest', async () => {
    const dir = useFolder(track(makeProject('python-recipe')))
    const mark = newMark()
    const run = await runCli(dir, ['run', '--reporter', 'json,text', '--', process.execPath, 'requests.cjs'], { SERVER_MARK: mark })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain(PLUGINS_LINE)
    expect(numbers(expectRecipeCoverage(dir))).toEqual(reference)
    expect(processesMarked(mark)).toEqual([])
  })
})
