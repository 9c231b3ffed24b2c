import type { ChildProcess } from 'node:child_process'
import type { HostConfig, HostMessage } from '../../src/host/protocol.js'
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import getPort from 'get-port'
import { afterEach } from 'vitest'
import { HOST_CONFIG_ENV } from '../../src/host/protocol.js'

// Runs the REAL built host (dist/host/cluster-host.js) as the launcher does, with plain `node`, so
// module loading is what users get (no tsx in the host process unless a test asks for it).

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const HOST_SCRIPT = join(ROOT, 'dist', 'host', 'cluster-host.js')
export const fixture = (name: string): string => join(ROOT, 'test', 'fixtures', 'apps', name)

/** Fails clearly when dist/host is older than src/host (the tests would run stale code). */
export function assertBuilt(): void {
  const newest = (dir: string, ext: string): number =>
    Math.max(...readdirSync(dir).filter((name) => name.endsWith(ext)).map((name) => statSync(join(dir, name)).mtimeMs))
  let built = 0
  try {
    built = newest(join(ROOT, 'dist', 'host'), '.js')
  } catch {
    // not built
  }
  if (built < newest(join(ROOT, 'src', 'host'), '.ts')) throw new Error('dist/host is missing or older than src/host: run `npm run build` first')
}

export interface Host {
  child: ChildProcess
  pid: number
  port: number
  stderr: () => string
  output: () => string
  /** Messages the host sent over the launcher's IPC channel (`ipc: true`). */
  messages: HostMessage[]
  /** Resolves once stderr matches; rejects if the host exits first. */
  waitForStderr: (pattern: RegExp) => Promise<RegExpExecArray>
  /** Resolves with the first message of type `t`; rejects if the channel closes first. */
  waitForMessage: <T extends HostMessage['t']>(t: T) => Promise<Extract<HostMessage, { t: T }>>
  /** Resolves after exit *and* stdio close, so the output is complete. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export interface HostOptions {
  workers?: number
  port?: number
  appExport?: string
  shutdownMs?: number
  env?: Record<string, string>
  /** Open the launcher's IPC channel (the host then reports to it instead of printing). */
  ipc?: boolean
  node?: string
  cwd?: string
}

const started: ChildProcess[] = []

afterEach(() => {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL') // the whole group: primary and workers
      } catch {
        // already gone
      }
    }
  }
})

export async function startHost(app: string, options: HostOptions = {}): Promise<Host> {
  const port = options.port ?? (await getPort({ host: '127.0.0.1' }))
  const config: Partial<HostConfig> = { app, appExport: options.appExport, workers: options.workers ?? 2, port, shutdownMs: options.shutdownMs ?? 5000 }
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, PORT: String(port), [HOST_CONFIG_ENV]: JSON.stringify(config) }
  delete env.NODE_OPTIONS
  const child = spawn(options.node ?? process.execPath, [HOST_SCRIPT], {
    cwd: options.cwd ?? ROOT,
    env,
    detached: true, // own process group, as the launcher does, so a test can signal it whole
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  })
  started.push(child)
  let stderr = ''
  let stdout = ''
  const messages: HostMessage[] = []
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  child.on('message', (message: HostMessage) => messages.push(message))
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  )
  const waitForStderr = (pattern: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const match = pattern.exec(stderr)
        if (match) {
          child.stderr?.off('data', check)
          resolve(match)
        }
        return Boolean(match)
      }
      if (check()) return
      child.stderr?.on('data', check)
      void closed.then(() => check() || reject(new Error(`host exited before stderr matched ${pattern}:\n${stderr}`)))
    })
  const waitForMessage = <T extends HostMessage['t']>(t: T): Promise<Extract<HostMessage, { t: T }>> =>
    new Promise((resolve, reject) => {
      const seen = messages.find((message) => message.t === t)
      if (seen) return resolve(seen as Extract<HostMessage, { t: T }>)
      const onMessage = (message: HostMessage): void => {
        if (message.t !== t) return
        child.off('message', onMessage)
        resolve(message as Extract<HostMessage, { t: T }>)
      }
      child.on('message', onMessage)
      child.once('disconnect', () => reject(new Error(`the host's channel closed before a "${t}" message; got ${JSON.stringify(messages)}:\n${stderr}`)))
    })
  return { child, pid: child.pid ?? 0, port, stderr: () => stderr, output: () => stdout + stderr, messages, waitForStderr, waitForMessage, closed }
}

/** GETs `path` on fresh connections until `expected` different workers answered (bounded), returning their pids. */
export async function collectWorkerPids(port: number, expected = 2, path = '/hello'): Promise<Set<number>> {
  const pids = new Set<number>()
  for (let i = 0; i < 200 && pids.size < expected; i++) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { Connection: 'close' } })
    pids.add(((await response.json()) as { pid: number }).pid)
  }
  return pids
}

/** Whether a process is alive (zombies count as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** How many times `needle` occurs in `text`. */
export const occurrences = (text: string, needle: string): number => text.split(needle).length - 1
