import { execFileSync } from 'node:child_process'

function has(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 })
    return true
  } catch {
    return false
  }
}

/** What the Python e2e suites need that is missing on this machine (empty when they can run). */
export function missingPythonTools(tools: ('uwsgi' | 'gunicorn')[]): string[] {
  const missing: string[] = []
  if (!has('/usr/bin/python3', ['-c', 'import coverage, flask'])) missing.push('python3-coverage/python3-flask (Debian /usr/bin/python3 with coverage and flask)')
  if (tools.includes('uwsgi') && !has('uwsgi', ['--plugin', 'python3', '--version'])) missing.push('uwsgi + uwsgi-plugin-python3')
  if (tools.includes('gunicorn') && !has('gunicorn', ['--version'])) missing.push('gunicorn')
  if (missing.length > 0) {
    console.warn(`skipping the Python e2e suite: not installed: ${missing.join(', ')} (apt-get install -y uwsgi uwsgi-plugin-python3 python3-flask python3-coverage gunicorn)`)
  }
  return missing
}

/** Coverage.py's own totals, as the runtime logs them: `covered/total statements, covered/total branches … (D decorator branches, C covered…)`. */
export function coveragePyTotals(output: string): { covered: number; statements: number; coveredBranches: number; branches: number; decorator: number; decoratorCovered: number } {
  const match = /Coverage\.py \(Python [\d.]+, \d+ data files?\): (\d+)\/(\d+) statements, (\d+)\/(\d+) branches in \d+ files \((\d+) decorator branches, (\d+) covered/.exec(output)
  if (!match) throw new Error(`no Coverage.py totals in the output:\n${output}`)
  const [covered, statements, coveredBranches, branches, decorator, decoratorCovered] = match.slice(1).map(Number) as [number, number, number, number, number, number]
  return { covered, statements, coveredBranches, branches, decorator, decoratorCovered }
}
