import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join } from 'node:path'

/** The Python that has Coverage.py 6.5, Flask and uWSGI's embedded version (Debian's). */
export const PYTHON = '/usr/bin/python3'

function has(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 })
    return true
  } catch {
    return false
  }
}

/** What the Python suites need that is missing on this machine (empty when they can run). */
export function missingPythonTools(tools: ('uwsgi' | 'gunicorn' | 'asgi' | 'django')[]): string[] {
  const missing: string[] = []
  if (!has(PYTHON, ['-c', 'import coverage, flask, asgiref'])) missing.push('python3-coverage/python3-flask/python3-asgiref (Debian /usr/bin/python3 with coverage, flask, asgiref)')
  if (tools.includes('uwsgi') && !has('uwsgi', ['--plugin', 'python3', '--version'])) missing.push('uwsgi + uwsgi-plugin-python3')
  if (tools.includes('gunicorn') && !has('gunicorn', ['--version'])) missing.push('gunicorn')
  if (tools.includes('asgi') && !has(PYTHON, ['-c', 'import fastapi, uvicorn, hypercorn'])) missing.push('python3-fastapi/python3-uvicorn/python3-hypercorn')
  if (tools.includes('asgi') && !has('hypercorn', ['--help'])) missing.push('hypercorn (the script of python3-hypercorn)')
  if (tools.includes('django') && !has(PYTHON, ['-c', 'import django'])) missing.push('python3-django')
  if (missing.length > 0) {
    console.warn(
      `skipping a Python suite: not installed: ${missing.join(', ')} ` +
        '(apt-get install -y uwsgi uwsgi-plugin-python3 python3-flask python3-coverage python3-asgiref gunicorn python3-fastapi python3-uvicorn python3-hypercorn python3-django)',
    )
  }
  return missing
}

/**
 * Coverage.py's own totals for one read, as the runtime logs them:
 * `Coverage.py (Python 3.11.2, 5 data files): covered/total statements, covered/total branches in N files (D decorator branches, C covered, left out)`.
 */
export function coveragePyTotals(output: string): { covered: number; statements: number; coveredBranches: number; branches: number; decorator: number; decoratorCovered: number } {
  const match = /Coverage\.py \(Python [\d.]+, \d+ data files?\): (\d+)\/(\d+) statements, (\d+)\/(\d+) branches in \d+ files? \((\d+) decorator branches, (\d+) covered/.exec(output)
  if (!match) throw new Error(`no Coverage.py totals in the output:\n${output}`)
  const [covered, statements, coveredBranches, branches, decorator, decoratorCovered] = match.slice(1).map(Number) as [number, number, number, number, number, number]
  return { covered, statements, coveredBranches, branches, decorator, decoratorCovered }
}

/** One file as `coverage json` reports it (Coverage.py 6.5): the numbers `coverage report` prints. */
export interface CoverageReportFile {
  executed_lines: number[]
  missing_lines: number[]
  summary: { num_statements: number; covered_lines: number; num_branches: number; covered_branches: number }
}

/**
 * `coverage combine` + `coverage json` (what `coverage report` counts) on a folder of data files,
 * run with `cwd` as the working folder: the reference our numbers must equal. Keys are absolute.
 */
export function coverageReport(dataDir: string, cwd: string): Record<string, CoverageReportFile> {
  if (!readdirSync(dataDir).some((name) => name.startsWith('.coverage.'))) throw new Error(`no data files in ${dataDir}`)
  const rcDir = mkdtempSync(join(tmpdir(), 'sc-report-'))
  try {
    const rc = join(rcDir, 'coveragerc')
    writeFileSync(rc, `[run]\nbranch = True\ndata_file = ${join(dataDir, '.coverage')}\n`)
    const env = { ...process.env, PYTHONPATH: '' }
    execFileSync(PYTHON, ['-m', 'coverage', 'combine', '--keep', `--rcfile=${rc}`], { cwd, env, stdio: 'pipe' })
    const json = execFileSync(PYTHON, ['-m', 'coverage', 'json', `--rcfile=${rc}`, '-o', '-'], { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    const files = (JSON.parse(json) as { files: Record<string, CoverageReportFile> }).files
    return Object.fromEntries(Object.entries(files).map(([path, file]) => [isAbsolute(path) ? path : join(cwd, path), file]))
  } finally {
    rmSync(rcDir, { recursive: true, force: true })
  }
}

/**
 * `coverage report` on the data of each process apart: the kept files grouped by the pid in their
 * name (`.coverage.<host>.<pid>.<start ns>.<sequence>`, python/_server_coverage_agent.py).
 */
export function coverageReportByProcess(dataDir: string, cwd: string): Map<number, Record<string, CoverageReportFile>> {
  const byPid = new Map<number, string[]>()
  for (const name of readdirSync(dataDir)) {
    const pid = Number(name.split('.').at(-3))
    if (!name.startsWith('.coverage.') || !Number.isInteger(pid)) continue
    byPid.set(pid, [...(byPid.get(pid) ?? []), name])
  }
  const reports = new Map<number, Record<string, CoverageReportFile>>()
  for (const [pid, names] of byPid) {
    const dir = mkdtempSync(join(tmpdir(), `sc-process-${pid}-`))
    try {
      for (const name of names) copyFileSync(join(dataDir, name), join(dir, name))
      reports.set(pid, coverageReport(dir, cwd))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return reports
}

/** The same numbers from our istanbul data of one file. */
export function istanbulNumbers(file: FileCoverageData): { statements: number; covered: number; hitLines: number[]; missedLines: number[]; branches: number; coveredBranches: number } {
  const lines = (hit: boolean): number[] =>
    Object.entries(file.s)
      .filter(([, hits]) => hits > 0 === hit)
      .map(([id]) => file.statementMap[id]!.start.line)
      .sort((a, b) => a - b)
  const branchHits = Object.values(file.b).flat()
  return {
    statements: Object.keys(file.s).length,
    covered: lines(true).length,
    hitLines: lines(true),
    missedLines: lines(false),
    branches: branchHits.length,
    coveredBranches: branchHits.filter((hits) => hits > 0).length,
  }
}

/**
 * Our data of every Python file equals `coverage report` on the same data, file by file: the same
 * files, statements, the same hit and missed lines, and branches as Coverage.py counts them minus
 * the decorator arcs we leave out (Python 3.11 + Coverage.py 6.5 count each decorated `def` line
 * and, when stacked, its decorator lines as 2-way branches): `decorators` pins, per file, how many.
 */
export function expectSameAsCoverageReport(
  expect: (value: unknown, message?: string) => { toEqual: (expected: unknown) => void },
  ours: CoverageMapData,
  report: Record<string, CoverageReportFile>,
  decorators: Record<string, { total: number; covered: number }>,
): void {
  // Every file but the runner's own JavaScript: Python files, and scripts without an extension
  // (a `bin/uvicorn` the server ran is measured like any file of its folder).
  const python = Object.keys(ours).filter((path) => !/\.[cm]?[jt]sx?$/.test(path)).sort()
  expect(python, 'the same files').toEqual(Object.keys(report).sort())
  for (const path of python) {
    const mine = istanbulNumbers(ours[path] as FileCoverageData)
    const theirs = report[path]!
    const decorator = decorators[path] ?? { total: 0, covered: 0 }
    // `executed_lines` also lists lines that ran but are no statements (docstrings): the hit
    // statements are those of them that are statements, and as many as `covered_lines`.
    const statementLines = new Set([...mine.hitLines, ...mine.missedLines])
    expect({ statements: mine.statements, covered: mine.covered, hit: mine.hitLines, missed: mine.missedLines }, path).toEqual({
      statements: theirs.summary.num_statements,
      covered: theirs.summary.covered_lines,
      hit: theirs.executed_lines.filter((line) => statementLines.has(line)).sort((a, b) => a - b),
      missed: [...theirs.missing_lines].sort((a, b) => a - b),
    })
    expect({ branches: mine.branches, covered: mine.coveredBranches }, `${path} branches`).toEqual({
      branches: theirs.summary.num_branches - decorator.total,
      covered: theirs.summary.covered_branches - decorator.covered,
    })
  }
}
