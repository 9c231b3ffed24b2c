import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { ControlServer } from '../../src/launch/control-server.js'

// The REAL agent (built: dist/agent/preload.cjs) in real child Node processes, against a real ControlServer.
// The agent is not built here: `npm run build` empties dist/ and would break files that run alongside.
const AGENT = fileURLToPath(new URL('../../dist/agent/preload.cjs', import.meta.url))

beforeAll(() => {
  if (!existsSync(AGENT)) throw new Error(`${AGENT} is missing: run \`npm run build\` before these tests`)
})

/** A live child: keeps running; with `busy-when <flag>` it spins forever once the flag file exists. */
const CHILD = `
const fs = require('node:fs')
const [mode, file] = process.argv.slice(2)
if (mode === 'handles-sigterm') process.on('SIGTERM', () => fs.writeFileSync(file, 'handled'))
setInterval(() => {
  if (mode === 'busy-when' && fs.existsSync(file)) {
    fs.writeFileSync(file + '.busy', '')
    for (;;) {}
  }
}, 10)
`

let dir: string
let v8Dir: string
let control: ControlServer
const children: ChildProcess[] = []

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sc-control-'))
  v8Dir = join(dir, 'v8')
  writeFileSync(join(dir, 'child.js'), CHILD)
  control = new ControlServer(join(dir, 'control.sock'))
  await control.listen()
})

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await control.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Starts the child script under the agent, with coverage into `v8Dir`. */
function start(...args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `--require ${JSON.stringify(AGENT)}`, SERVER_COVERAGE_SOCKET: control.socketPath, NODE_V8_COVERAGE: v8Dir }
  delete env.SERVER_COVERAGE_SOURCES
  const child = spawn(process.execPath, [join(dir, 'child.js'), ...args], { env, stdio: 'ignore' })
  children.push(child)
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  return { child, exit }
}

/** Polls `check` every 10 ms until it returns true, failing after `ms`. */
async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const coverageFiles = (pid: number): string[] => (existsSync(v8Dir) ? readdirSync(v8Dir).filter((name) => name.startsWith(`coverage-${pid}-`)) : [])
const livePids = (): number[] => control.live.map((p) => p.pid).sort()
const registered = (count: number): Promise<void> => until(`${count} registered process(es)`, () => control.live.length === count)

/** Resolves with the exit, or 'running' if the process is still alive after `ms`. */
const exitWithin = (exit: Promise<unknown>, ms: number): Promise<unknown> =>
  Promise.race([exit, new Promise((resolve) => setTimeout(() => resolve('running'), ms))])

describe('ControlServer with the real agent', () => {
  // Every process registers with its pid, and a flush makes each one write a complete file and acknowledge.
  test('processes register and flush writes one file each', async () => {
    const a = start('idle')
    const b = start('idle')
    await registered(2)
    expect(livePids()).toEqual([a.child.pid, b.child.pid].sort())
    expect(control.live.every((p) => p.ppid === process.pid && p.threadId === 0 && p.connected)).toBe(true)
    expect(control.live.map((p) => p.argv[1]).sort()).toEqual(['idle', 'idle'])
    expect(coverageFiles(a.child.pid!)).toEqual([])
    const result = await control.flush(10_000)
    expect(result.flushed.map((p) => p.pid).sort()).toEqual(livePids())
    expect({ unanswered: result.unanswered, failed: result.failed }).toEqual({ unanswered: [], failed: [] })
    expect(coverageFiles(a.child.pid!)).toHaveLength(1)
    expect(coverageFiles(b.child.pid!)).toHaveLength(1)
    // a second round writes a second file each (never overwriting the first)
    expect((await control.flush(10_000)).flushed).toHaveLength(2)
    expect(coverageFiles(a.child.pid!)).toHaveLength(2)
    expect(coverageFiles(b.child.pid!)).toHaveLength(2)
  })

  // A process stuck in a busy loop cannot answer: it is reported unanswered after the timeout, the others flush.
  test('a busy process ends in unanswered', async () => {
    const flag = join(dir, 'spin')
    const busy = start('busy-when', flag)
    const idle = start('idle')
    await registered(2)
    writeFileSync(flag, '')
    await until('the child to spin', () => existsSync(`${flag}.busy`))
    const startedAt = Date.now()
    const result = await control.flush(300)
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290)
    expect(result.unanswered.map((p) => p.pid)).toEqual([busy.child.pid])
    expect(result.flushed.map((p) => p.pid)).toEqual([idle.child.pid])
    expect(coverageFiles(busy.child.pid!)).toEqual([])
  })

  // Without its own handler, SIGTERM becomes a normal exit 128+15, and V8 writes the final file.
  test('SIGTERM without an app handler exits 143 with a coverage file', async () => {
    const { child, exit } = start('idle')
    await registered(1)
    child.kill('SIGTERM')
    expect(await exit).toEqual({ code: 143, signal: null })
    expect(coverageFiles(child.pid!)).toHaveLength(1)
    await until('the disconnect', () => control.live.length === 0)
    expect(control.processes.map((p) => p.connected)).toEqual([false])
  })

  // With its own SIGTERM handler the app decides: the agent defers and the process keeps running.
  test('SIGTERM with an app handler is left to the app', async () => {
    const marker = join(dir, 'sigterm')
    const { child } = start('handles-sigterm', marker)
    await registered(1)
    child.kill('SIGTERM')
    await until("the app's handler", () => existsSync(marker))
    // still alive and answering
    const result = await control.flush(10_000)
    expect(result.flushed.map((p) => p.pid)).toEqual([child.pid])
    expect(child.exitCode).toBe(null)
  })

  // The collector vanishing without goodbye means the runner died: the agent stops its process.
  test('closing without goodbye stops the orphan', async () => {
    const { child, exit } = start('idle')
    await registered(1)
    await control.close()
    expect(await exit).toEqual({ code: 143, signal: null })
    expect(coverageFiles(child.pid!)).toHaveLength(1)
    control = new ControlServer(join(dir, 'control2.sock')) // for afterEach
    await control.listen()
  })

  // After goodbye the collector's leaving is deliberate: the process keeps running.
  test('closing after goodbye leaves the process running', async () => {
    const { child, exit } = start('idle')
    await registered(1)
    control.sayGoodbye()
    await control.close()
    // Negative check: an orphan exits within ~100 ms (test above); give this one 1.5 s to prove it does not.
    expect(await exitWithin(exit, 1500)).toBe('running')
    expect(child.exitCode).toBe(null)
    control = new ControlServer(join(dir, 'control2.sock'))
    await control.listen()
  })
})
