import type { ChildProcess } from 'node:child_process'
import type { RunResult } from './harness.js'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { REPO, makeProjectIn, startRunner } from './harness.js'

/**
 * Which Jest the e2e tests drive: by default the repository's own (Jest 30). scripts/test-jest29.sh
 * sets SC_JEST_HOME to compat/jest29, where Jest 29 is installed.
 */
export const JEST_HOME = process.env.SC_JEST_HOME ? resolve(process.env.SC_JEST_HOME) : REPO
const JEST_BIN = join(JEST_HOME, 'node_modules', 'jest', 'bin', 'jest.js')
/** The Jest version under test, to prove which one ran. */
export const JEST_VERSION = (JSON.parse(readFileSync(join(JEST_HOME, 'node_modules', 'jest', 'package.json'), 'utf8')) as { version: string }).version
export const JEST_MAJOR = Number(JEST_VERSION.split('.')[0])
/**
 * The `server-coverage` the fixtures load: the repository by default; SC_PACKAGE_DIR points at
 * another copy (a packed and unpacked build, or a snapshot of dist/ while the repository rebuilds).
 */
const PACKAGE_DIR = process.env.SC_PACKAGE_DIR ? resolve(process.env.SC_PACKAGE_DIR) : REPO

/** Copies a Jest fixture project into a fresh folder under JEST_HOME, where `jest` and `server-coverage` resolve. */
export function makeJestProject(fixture: string): string {
  return makeProjectIn(JEST_HOME, join(REPO, 'test', 'fixtures', 'jest-projects', fixture), `jest-${fixture}`, PACKAGE_DIR)
}

/** Starts the real Jest CLI in `dir`. */
export function startJest(dir: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; result: Promise<RunResult> } {
  return startRunner(JEST_BIN, dir, args, env)
}

/** Runs the real Jest CLI in `dir` to completion. */
export function runJest(dir: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return startJest(dir, args, env).result
}

/** Reads the `coverage-final.json` Jest wrote (same place as Vitest's). */
export { readCoverage as readJestCoverage } from './harness.js'
