import type { ChildProcess } from 'node:child_process'
import type { Server } from 'node:net'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import getPort from 'get-port'
import { afterEach, describe, expect, it } from 'vitest'

// Runs the REAL host script from source (tsx), with 2 workers, against fixture apps.
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/apps/${name}`, import.meta.url))

const started: ChildProcess[] = []
const blockers: Server[] = []

afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL') // the whole group: primary and workers
      } catch {
        // already gone
      }
    }
  }
  await Promise.all(blockers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

interface Host {
  child: ChildProcess
  pid: number
  port: number
  stderr: () => string
  /** Resolves once stderr matches; rejects if the host exits first. */
  waitForStderr: (pattern: RegExp) => Promise<RegExpExecArray>
  /** Resolves after exit *and* stdio close, so stderr is complete. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

async function startHost(app: string, env: Record<string, string> = {}, port?: number): Promise<Host> {
  const chosenPort = port ?? (await getPort({ host: '127.0.0.1' }))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/host/cluster-host.ts'], {
    cwd: ROOT,
    env: { ...process.env, SERVER_COVERAGE_APP: app, SERVER_COVERAGE_WORKERS: '2', PORT: String(chosenPort), ...env },
    detached: true, // own process group, so afterEach can kill primary + workers together
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.push(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
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
  return { child, pid: child.pid ?? 0, port: chosenPort, stderr: () => stderr, waitForStderr, closed }
}

/** GETs /hello on fresh connections until both workers have answered (bounded). */
async function collectWorkerPids(port: number, expected = 2): Promise<Set<number>> {
  const pids = new Set<number>()
  for (let i = 0; i < 200 && pids.size < expected; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/hello`, { headers: { Connection: 'close' } })
    pids.add(((await response.json()) as { pid: number }).pid)
  }
  return pids
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ESRCH')
    return false
  }
}

describe('cluster-host', { timeout: 30_000 }, () => {
  it('serves an Express app from 2 workers and shuts down gracefully on SIGTERM to the primary', async () => {
    const host = await startHost(fixture('express-app.cjs'))
    const [, url] = await host.waitForStderr(/server-coverage host: 2 workers listening on (\S+)\n/)
    expect(url).toBe(`http://127.0.0.1:${host.port}`)

    const pids = await collectWorkerPids(host.port)
    expect(pids.size).toBe(2)
    expect(pids.has(host.pid)).toBe(false)

    host.child.kill('SIGTERM')
    expect(await host.closed).toEqual({ code: 0, signal: null })
    for (const pid of pids) expect(isAlive(pid)).toBe(false)
    expect(host.stderr()).not.toContain('unexpectedly')
  })

  it('finishes an in-flight request when the whole process group gets SIGTERM (as the launcher does)', async () => {
    const host = await startHost(fixture('express-app.cjs'))
    await host.waitForStderr(/workers listening/)
    const slow = fetch(`http://127.0.0.1:${host.port}/slow?ms=700`)
    await host.waitForStderr(/slow request started in (\d+)/)

    process.kill(-host.pid, 'SIGTERM')
    const response = await slow
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ slow: true })
    expect(await host.closed).toEqual({ code: 0, signal: null })
    expect(host.stderr()).not.toMatch(/unexpectedly|Error/)
  })

  it('serves a default-exported (req, res) handler and stops on SIGINT', async () => {
    const host = await startHost(fixture('handler.mjs'))
    await host.waitForStderr(/2 workers listening/)
    const response = await fetch(`http://127.0.0.1:${host.port}/anything`)
    expect(await response.text()).toBe('ok')
    host.child.kill('SIGINT')
    expect(await host.closed).toEqual({ code: 0, signal: null })
  })

  it('logs a worker that dies, does not respawn it, and exits 1 at shutdown', async () => {
    const host = await startHost(fixture('express-app.cjs'))
    await host.waitForStderr(/workers listening/)
    const [victim, survivor] = [...(await collectWorkerPids(host.port))] as [number, number]
    process.kill(victim, 'SIGKILL')
    await host.waitForStderr(new RegExp(`worker ${victim} exited unexpectedly \\(code null, signal SIGKILL\\); not respawning`))

    // Every request now lands on the survivor: no replacement worker was forked.
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`http://127.0.0.1:${host.port}/hello`, { headers: { Connection: 'close' } })
      expect(await response.json()).toEqual({ pid: survivor })
    }
    host.child.kill('SIGTERM')
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(isAlive(survivor)).toBe(false)
  })

  it('exits 1 naming the module and what it found when the export is not an app', async () => {
    const app = fixture('bad-export.mjs')
    const host = await startHost(app)
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(host.stderr()).toContain(`server-coverage host: ${app} does not export a servable app`)
    expect(host.stderr()).toContain('tried export "default", "app", "handler"')
    expect(host.stderr()).toContain('default: number (42)')
    expect(host.stderr()).not.toContain('listening')
  })

  it('exits 1 with the import error when the module throws on import', async () => {
    const app = fixture('throws-on-import.mjs')
    const host = await startHost(app)
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(host.stderr()).toContain(`server-coverage host: cannot import app module ${app}: fixture exploded on import`)
  })

  it('exits 1 when the port is taken', async () => {
    const port = await getPort({ host: '127.0.0.1' })
    const blocker = createServer()
    blockers.push(blocker)
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))

    const host = await startHost(fixture('handler.mjs'), {}, port)
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(host.stderr()).toContain(`server-coverage host: cannot listen on 127.0.0.1:${port}: EADDRINUSE`)
    expect(host.stderr()).not.toContain('workers listening')
  })

  it('exits 1 on an invalid worker count', async () => {
    const host = await startHost(fixture('handler.mjs'), { SERVER_COVERAGE_WORKERS: '0' })
    expect(await host.closed).toEqual({ code: 1, signal: null })
    expect(host.stderr()).toContain('SERVER_COVERAGE_WORKERS must be an integer from 1 to 1024, got "0"')
  })
})
