import type { ChildProcess } from 'node:child_process'
import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { RunResult } from './harness.js'
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { NODE, REPO } from './harness.js'

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

/** Jest 30.5 swaps its `default` reporter for an `agent` one when it sees these (jest-core's detectAgent). */
const AGENT_ENV_VARS = [
  'AI_AGENT', 'AUGMENT_AGENT', 'CLAUDE_CODE', 'CLAUDECODE', 'CODEX_SANDBOX', 'CODEX_THREAD_ID',
  'CURSOR_AGENT', 'GEMINI_CLI', 'GOOSE_PROVIDER', 'OPENCODE', 'REPL_ID',
]

/** Copies a Jest fixture project into a fresh folder under JEST_HOME, where `jest` and `server-coverage` resolve. */
export function makeJestProject(fixture: string): string {
  const base = join(JEST_HOME, '.e2e-tmp')
  mkdirSync(base, { recursive: true })
  const dir = mkdtempSync(join(base, `jest-${fixture}-`))
  cpSync(join(REPO, 'test', 'fixtures', 'jest-projects', fixture), dir, { recursive: true })
  mkdirSync(join(dir, 'node_modules'), { recursive: true })
  symlinkSync(PACKAGE_DIR, join(dir, 'node_modules', 'server-coverage'), 'dir')
  return dir
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, FORCE_COLOR: '0', NO_COLOR: '1', CI: 'true' }
  env.PATH = `${dirname(NODE)}:${env.PATH ?? ''}`
  for (const key of Object.keys(env)) {
    if (key.startsWith('VITEST') || key.startsWith('JEST_') || key.startsWith('SERVER_URL') || key === 'NODE_V8_COVERAGE' || key === 'TEST') delete env[key]
  }
  for (const key of AGENT_ENV_VARS) delete env[key]
  delete env.NODE_OPTIONS
  return env
}

/** Starts the real Jest CLI in `dir`. */
export function startJest(dir: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; result: Promise<RunResult> } {
  const child = spawn(NODE, [JEST_BIN, ...args], { cwd: dir, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const result = new Promise<RunResult>((resolvePromise) => {
    child.on('close', (code, signal) => {
      const output = (stdout + stderr).replace(/\x1b\[[0-9;]*m/g, '')
      resolvePromise({ code, signal, stdout, stderr, output })
    })
  })
  return { child, result }
}

/** Runs the real Jest CLI in `dir` to completion. */
export function runJest(dir: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return startJest(dir, args, env).result
}

/** Reads the `coverage-final.json` Jest wrote. */
export function readJestCoverage(dir: string): CoverageMapData {
  return JSON.parse(readFileSync(join(dir, 'coverage', 'coverage-final.json'), 'utf8')) as CoverageMapData
}
