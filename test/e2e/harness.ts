import type { ChildProcess } from 'node:child_process'
import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll } from 'vitest'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * Which Vitest and Node the e2e tests drive. By default the repository's own (Vitest 4.1 on the
 * current Node). The compatibility job sets SC_VITEST_HOME to a folder where `server-coverage` (as
 * packed) and another Vitest are installed, and SC_NODE to another Node binary.
 */
const VITEST_HOME = process.env.SC_VITEST_HOME ? resolve(process.env.SC_VITEST_HOME) : REPO
export const NODE = process.env.SC_NODE ?? process.execPath
const VITEST_BIN = join(VITEST_HOME, 'node_modules', 'vitest', 'vitest.mjs')
/** The Vitest version under test, to prove which one ran. */
export const VITEST_VERSION = (JSON.parse(readFileSync(join(VITEST_HOME, 'node_modules', 'vitest', 'package.json'), 'utf8')) as { version: string }).version

/**
 * Copies a fixture folder into `to`. A fixture may share files with another instead of copying
 * them: its `fixture.json` `{ "shared": { "from": "../cluster", "files": ["server.js", "src"] } }`
 * names them. Output folders of earlier local runs (`node_modules`, `coverage`) are not copied.
 */
export function copyFixture(from: string, to: string): void {
  const manifest = join(from, 'fixture.json')
  if (existsSync(manifest)) {
    const { shared } = JSON.parse(readFileSync(manifest, 'utf8')) as { shared: { from: string; files: string[] } }
    for (const file of shared.files) cpSync(join(from, shared.from, file), join(to, file), { recursive: true })
  }
  cpSync(from, to, { recursive: true, filter: (source) => !/[/\\](node_modules|coverage|fixture\.json)$/.test(source) })
}

/**
 * Copies a fixture into a fresh folder under `home/.e2e-tmp`, where the runner resolves from
 * `home`'s node_modules, and links `server-coverage` (from `packageDir`) like an installed package.
 */
export function makeProjectIn(home: string, from: string, prefix: string, packageDir = REPO): string {
  const base = join(home, '.e2e-tmp')
  mkdirSync(base, { recursive: true })
  const dir = mkdtempSync(join(base, `${prefix.replace(/\W/g, '-')}-`))
  copyFixture(from, dir)
  mkdirSync(join(dir, 'node_modules'), { recursive: true })
  symlinkSync(packageDir, join(dir, 'node_modules', 'server-coverage'), 'dir')
  return dir
}

/** Copies a Vitest fixture project into a fresh folder where `server-coverage` and `vitest` resolve. */
export function makeProject(fixture: string, from = join(REPO, 'test', 'fixtures', 'projects', fixture)): string {
  return makeProjectIn(VITEST_HOME, from, fixture)
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout + stderr, without colour codes. */
  output: string
}

/** Jest 30.5 swaps its `default` reporter for an `agent` one when it sees these (jest-core's detectAgent). */
const AGENT_ENV_VARS = [
  'AI_AGENT', 'AUGMENT_AGENT', 'CLAUDE_CODE', 'CLAUDECODE', 'CODEX_SANDBOX', 'CODEX_THREAD_ID',
  'CURSOR_AGENT', 'GEMINI_CLI', 'GOOSE_PROVIDER', 'OPENCODE', 'REPL_ID',
]

/** Environment for a child runner: ours minus anything that would make it behave unlike a user's shell. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, FORCE_COLOR: '0', NO_COLOR: '1', CI: 'true' }
  // Servers started as `node …` must run on the same Node as the runner under test.
  env.PATH = `${dirname(NODE)}:${env.PATH ?? ''}`
  for (const key of Object.keys(env)) {
    if (key.startsWith('VITEST') || key.startsWith('JEST_') || key.startsWith('SERVER_URL') || key === 'NODE_V8_COVERAGE' || key === 'TEST') delete env[key]
  }
  for (const key of AGENT_ENV_VARS) delete env[key]
  delete env.NODE_OPTIONS
  return env
}

/** Starts a runner's CLI script (Vitest's, Jest's) with NODE in `dir`, collecting its output. */
export function startRunner(script: string, dir: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; result: Promise<RunResult> } {
  const child = spawn(NODE, [script, ...args], { cwd: dir, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
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

/** Starts the real Vitest CLI in `dir`. */
export function startVitest(dir: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; result: Promise<RunResult> } {
  return startRunner(VITEST_BIN, dir, args, env)
}

/** Runs the real Vitest CLI in `dir` to completion. */
export function runVitest(dir: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return startVitest(dir, args, env).result
}

/** Reads the `coverage-final.json` Vitest wrote. */
export function readCoverage(dir: string): CoverageMapData {
  return JSON.parse(readFileSync(join(dir, 'coverage', 'coverage-final.json'), 'utf8')) as CoverageMapData
}

/** The file coverage of `relative` (to `dir`), failing clearly when it is absent. */
export function fileCoverage(coverage: CoverageMapData, dir: string, relative: string): FileCoverageData {
  const file = coverage[join(dir, relative)]
  if (!file) throw new Error(`${relative} is not in the report; files: ${Object.keys(coverage).join(', ')}`)
  return file as FileCoverageData
}

/** Hits of the first statement that starts on `line` (1-based), or undefined when none starts there. */
export function statementHits(file: FileCoverageData, line: number): number | undefined {
  const id = Object.entries(file.statementMap)
    .filter(([, range]) => range.start.line === line)
    .sort(([, a], [, b]) => a.start.column - b.start.column)[0]?.[0]
  return id === undefined ? undefined : file.s[id]
}

/** Line number (1-based) of the first line of `file` in `dir` that contains `marker`. */
export function lineOf(dir: string, file: string, marker: string): number {
  const index = readFileSync(join(dir, file), 'utf8').split('\n').findIndex((line) => line.includes(marker))
  if (index === -1) throw new Error(`"${marker}" not found in ${file}`)
  return index + 1
}

/** Whether a process is alive (zombies count as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}


/** Live processes (not zombies) whose environment holds `SC_E2E_MARK=<mark>`. */
export function processesMarked(mark: string): number[] {
  const needle = `SC_E2E_MARK=${mark}\0`
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle) && isAlive(Number(entry))) pids.push(Number(entry))
    } catch {
      // gone, or not ours to read
    }
  }
  return pids
}

/** A fresh marker to find every process a run started. */
export function newMark(): string {
  return `m${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`
}

/** Folders a test file made, removed after all its tests: `const track = tempDirs(); track(dir)`. */
export function tempDirs(): (dir: string) => string {
  const dirs: string[] = []
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })
  return (dir) => {
    dirs.push(dir)
    return dir
  }
}

/** Polls until `check` holds or `timeoutMs` passes (for the process table: "gone" sends no event). */
export async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  return check()
}

/** Accumulates a runner's output and resolves when a line appears `count` times (an event, not a sleep). */
export function watchOutput(child: ChildProcess, failOn?: string): { text: () => string; waitFor: (pattern: RegExp, count?: number) => Promise<void> } {
  let output = ''
  const listeners = new Set<() => void>()
  const onData = (chunk: Buffer | string): void => {
    output += chunk.toString()
    for (const listener of listeners) listener()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const waitFor = (pattern: RegExp, count = 1): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (failOn && output.includes(failOn)) return done(new Error(output))
        if ((output.match(new RegExp(pattern, 'g')) ?? []).length >= count) done()
      }
      const onClose = (): void => done(new Error(`the runner exited before ${pattern}:\n${output}`))
      function done(error?: Error): void {
        listeners.delete(check)
        child.off('close', onClose)
        if (error) reject(error)
        else resolve()
      }
      listeners.add(check)
      child.once('close', onClose)
      check()
    })
  return { text: () => output, waitFor }
}

/** The real `server-coverage` CLI of this repository. */
export const CLI = join(REPO, 'bin', 'server-coverage.js')

/** Starts the real CLI in `dir`. */
export function startCli(dir: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; result: Promise<RunResult> } {
  return startRunner(CLI, dir, args, env)
}

/** Runs the real CLI in `dir` to completion. */
export function runCli(dir: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return startCli(dir, args, env).result
}
