import type { ChildProcess } from 'node:child_process'
import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import type { RunResult } from './harness.js'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { REPO, makeProjectIn, startRunner } from './harness.js'

// The real Playwright Test CLI on fixture projects under test/fixtures/playwright. Browsers are
// Debian's Chromium (the fixtures' configs point at /usr/bin/chromium).

const PLAYWRIGHT_CLI = join(REPO, 'node_modules', '@playwright', 'test', 'cli.js')

/** Debian's Chromium (`apt-get install -y chromium`; `npx playwright install` cannot download here). */
export const CHROMIUM = '/usr/bin/chromium'

/** Whether the browser tests can run; says why not once. */
export function hasChromium(): boolean {
  if (existsSync(CHROMIUM)) return true
  console.warn(`skipping the Playwright browser e2e tests: ${CHROMIUM} is not installed (apt-get install -y chromium)`)
  return false
}

/** Copies a Playwright fixture project into a fresh folder where `@playwright/test` and `server-coverage` resolve. */
export function makePlaywrightProject(fixture: string): string {
  return makeProjectIn(REPO, join(REPO, 'test', 'fixtures', 'playwright', fixture), `playwright-${fixture}`)
}

/** Starts `playwright test …args` in `dir`. */
export function startPlaywright(dir: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; result: Promise<RunResult> } {
  return startRunner(PLAYWRIGHT_CLI, dir, ['test', ...args], env)
}

/** Runs `playwright test …args` in `dir` to completion. */
export function runPlaywright(dir: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return startPlaywright(dir, args, env).result
}

/** Reads a `coverage-final.json` (default: the one the run wrote into `coverage/`). */
export function readCoverageFile(dir: string, file = 'coverage/coverage-final.json'): CoverageMapData {
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as CoverageMapData
}

/** Ids of the statements that start on `line`, in column order. */
export function statementsOn(file: FileCoverageData, line: number): string[] {
  return Object.entries(file.statementMap)
    .filter(([, range]) => range.start.line === line)
    .sort(([, a], [, b]) => a.start.column - b.start.column)
    .map(([id]) => id)
}

/** Pid → [parent pid, process group] of every live process. */
function processTable(): Map<number, [number, number]> {
  const table = new Map<number, [number, number]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      table.set(Number(entry), [Number(fields[1]), Number(fields[2])])
    } catch {
      // gone meanwhile
    }
  }
  return table
}

/**
 * What Ctrl+C in a terminal does to `playwright test`: SIGINT to the runner and to every process
 * of its tree that shares its process group (its workers); processes in groups of their own (our
 * servers) get nothing from the terminal.
 */
export function interruptLikeATerminal(pid: number): void {
  const table = processTable()
  const group = table.get(pid)?.[1]
  const tree = new Set([pid])
  for (let grew = true; grew; ) {
    grew = false
    for (const [child, [parent]] of table) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child)
        grew = true
      }
    }
  }
  for (const member of tree) {
    if (table.get(member)?.[1] !== group) continue
    try {
      process.kill(member, 'SIGINT')
    } catch {
      // exited meanwhile
    }
  }
}
