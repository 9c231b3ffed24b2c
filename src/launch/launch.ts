import type { ChildProcess } from 'node:child_process'
import type { ResolvedServerOptions } from '../options.js'
import { spawn } from 'node:child_process'
import { relative } from 'node:path'
import getPort from 'get-port'
import { onProcessExit } from '../cleanup.js'
import { ServerCoverageError, formatOutputTail } from '../errors.js'
import { planCommand, substitutePort } from './command.js'
import { hostEnv, waitForHost } from './host-channel.js'
import { OutputTail } from './output-tail.js'
import { signalGroup, waitForGroupExit } from './process-group.js'
import { probeHttp, probePort, waitForReady } from './ready.js'

/** A server process group that answered its readiness probe. */
export interface LaunchedServer {
  child: ChildProcess
  /** The group leader's pid, which is also the process group id. */
  pgid: number
  port: number
  /** Base URL of the server, `http://127.0.0.1:<port>`. */
  baseUrl: string
  /** What the user sees in messages: the command, or `app <module>`. */
  label: string
  output: OutputTail
  /** Resolves when the group leader exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Milliseconds from spawn to ready. */
  readyMs: number
  /** For `app`: how many of the host's workers listen (all of them once ready). */
  workers?: { listening: number; total: number }
}

/** What the launcher adds to the server's environment (coverage dir, agent, control socket). */
export interface LaunchEnvironment {
  env: Record<string, string>
  /** Absolute path of the cluster host script, for the `app` option. */
  hostScript: string
}

/** Groups we started that are still alive → their exit-hook task (SIGKILL if the runner exits first). */
const liveGroups = new Map<number, () => void>()

/** Tracks a group: if the runner exits without stopping it (crash, process.exit, Ctrl+C), it is killed. */
function trackGroup(pgid: number): void {
  liveGroups.set(pgid, onProcessExit(() => signalGroup(pgid, 'SIGKILL')))
}

/** Stops tracking a group for the runner-exit hook (it was stopped properly). */
export function forgetGroup(pgid: number): void {
  liveGroups.get(pgid)?.()
  liveGroups.delete(pgid)
}

/** Describes what the server runs, for messages. */
export function describeServer(options: ResolvedServerOptions): string {
  return options.command ?? `app ${relative(options.cwd, options.app ?? '') || options.app} (${options.workers} workers)`
}

/**
 * Spawns the server in its own process group with the coverage environment in its env only, and
 * waits until its readiness probe passes. Throws a `ServerCoverageError` naming the option and
 * ending with the server's output tail; on any failure the group is killed before throwing.
 */
export async function launchServer(options: ResolvedServerOptions, launchEnv: LaunchEnvironment): Promise<LaunchedServer> {
  const label = describeServer(options)
  let port = options.port
  if (port !== undefined) {
    if (await probePort(port)) {
      throw new ServerCoverageError(
        'PORT_IN_USE',
        `port ${port} is already in use, so "${label}" cannot listen on it. ` +
          'Stop whatever listens there, or remove the `port` option to get a free port.',
      )
    }
  } else {
    port = await getPort({ host: '127.0.0.1' })
  }
  const plan = options.app
    ? { file: process.execPath, args: [launchEnv.hostScript], shell: false }
    : planCommand(substitutePort(options.command ?? '', port))
  const appEnv = options.app ? hostEnv(options, port) : {}
  const env = { ...process.env, ...options.env, PORT: String(port), ...appEnv, ...launchEnv.env }
  const output = new OutputTail()
  const startedAt = Date.now()
  // The app host reports its workers over an IPC channel (fd 3); a command gets none.
  const stdio = options.app ? (['ignore', 'pipe', 'pipe', 'ipc'] as const) : (['ignore', 'pipe', 'pipe'] as const)
  const child = spawn(plan.file, plan.args, { cwd: options.cwd, env, detached: true, stdio: [...stdio] })
  output.attach(child.stdout, options.stdout === 'pipe' ? process.stdout : undefined, `[${options.name}] `)
  output.attach(child.stderr, options.stderr === 'pipe' ? process.stderr : undefined, `[${options.name}] `)

  const spawnError = new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', () => resolve({ code: null, signal: null }))
  })
  const pgid = child.pid
  if (pgid !== undefined) trackGroup(pgid)
  const abort = new AbortController()
  void exited.then(() => abort.abort())

  const baseUrl = `http://127.0.0.1:${port}`
  const url = options.url === undefined ? undefined : options.url.startsWith('/') ? baseUrl + options.url : substitutePort(options.url, port)
  const probe = url ? () => probeHttp(url) : () => probePort(port)
  const deadline = startedAt + options.timeout
  if (options.app) return waitForApp(options, { child, pgid, port, baseUrl, label, output, exited, startedAt }, url ? probe : undefined, deadline, abort.signal)
  const ready = await Promise.race([waitForReady(probe, deadline, abort.signal), spawnError])

  if (ready === true) {
    return { child, pgid: pgid as number, port, baseUrl, label, output, exited, readyMs: Date.now() - startedAt }
  }
  // Not ready: remember why, then make sure nothing is left behind before explaining.
  const exitedEarly = abort.signal.aborted
  await abandon(pgid, exited)
  const tail = formatOutputTail(output.tail())
  if (ready !== false) {
    const error = ready
    if (error.code === 'ENOENT') {
      throw new ServerCoverageError(
        'COMMAND_NOT_FOUND',
        `the \`command\` option "${options.command}" could not start: "${plan.file}" was not found ` +
          `(cwd ${options.cwd}). Check the spelling, install it, or give a path.${tail}`,
        { cause: error },
      )
    }
    throw new ServerCoverageError('SERVER_EXITED', `could not spawn "${label}": ${error.message}${tail}`, { cause: error })
  }
  if (exitedEarly) {
    const { code, signal } = await exited
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
    const notFound = plan.shell && code === 127 ? ' The shell could not find the command (exit 127).' : ''
    throw new ServerCoverageError(
      'SERVER_EXITED',
      `the server "${label}" ${how} before it was ready.${notFound} Check the \`command\` option and the output below.${tail}`,
    )
  }
  const what = url ? `${url} did not answer with a 2xx/3xx status` : `nothing accepted connections on port ${port}`
  throw new ServerCoverageError(
    'READY_TIMEOUT',
    `the server "${label}" was not ready within ${options.timeout} ms (the \`timeout\` option): ${what}. ` +
      `Make sure it listens on the port from the PORT environment variable${options.command?.includes('{port}') ? ' or {port}' : ''}, ` +
      `check the \`url\` option, or raise \`timeout\`.${tail}`,
  )
}

/** Kills a group that did not become ready and waits (bounded) for its leader, so the output tail is complete. */
async function abandon(pgid: number | undefined, exited: Promise<unknown>): Promise<void> {
  if (pgid !== undefined) {
    signalGroup(pgid, 'SIGKILL')
    forgetGroup(pgid)
  }
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1000))])
}

interface SpawnedHost {
  child: ChildProcess
  pgid: number | undefined
  port: number
  baseUrl: string
  label: string
  output: OutputTail
  exited: LaunchedServer['exited']
  startedAt: number
}

/** `app`: ready once the host says every worker listens (and `url`, when given, answers); else one error. */
async function waitForApp(options: ResolvedServerOptions, host: SpawnedHost, probe: (() => Promise<boolean>) | undefined, deadline: number, signal: AbortSignal): Promise<LaunchedServer> {
  const readiness = await waitForHost(host.child, probe, deadline, signal)
  if (readiness.t === 'ready' && host.pgid !== undefined) {
    const { t: _, ...workers } = readiness
    return { ...host, pgid: host.pgid, readyMs: Date.now() - host.startedAt, workers }
  }
  await abandon(host.pgid, host.exited)
  const tail = formatOutputTail(host.output.tail())
  if (readiness.t === 'failed') throw new ServerCoverageError(readiness.code, `${readiness.message}${tail}`)
  if (readiness.t === 'timeout') {
    const what = readiness.probe
      ? `all ${readiness.total} workers were listening, but ${options.url} did not answer with a 2xx/3xx status (check the \`url\` option)`
      : `${readiness.listening} of ${readiness.total ?? options.workers} workers were listening (a slow import or factory?)`
    throw new ServerCoverageError('READY_TIMEOUT', `the server "${host.label}" was not ready within ${options.timeout} ms (the \`timeout\` option): ${what}. Raise \`timeout\` if it only needs longer.${tail}`)
  }
  const { code, signal: killedBy } = await host.exited
  const how = killedBy ? `was killed by ${killedBy}` : `exited with code ${code}`
  throw new ServerCoverageError('SERVER_EXITED', `the app host for "${host.label}" ${how} before it was ready. Check the \`app\` option and the output below.${tail}`)
}

/** What stopping a server found. */
export interface StopResult {
  /** Processes still alive after the graceful timeout, SIGKILLed. */
  forced: { pid: number; command: string }[]
  stopMs: number
}

/**
 * Stops the server: the graceful signal to the whole group, wait up to the graceful timeout for
 * every member to exit, then SIGKILL whatever is left. Idempotent.
 */
export async function stopServer(server: LaunchedServer, options: ResolvedServerOptions): Promise<StopResult> {
  const startedAt = Date.now()
  const { signal, timeout } = options.gracefulShutdown
  if (!signalGroup(server.pgid, signal)) {
    forgetGroup(server.pgid)
    return { forced: [], stopMs: 0 }
  }
  const forced = await waitForGroupExit(server.pgid, Date.now() + timeout)
  if (forced.length > 0) {
    signalGroup(server.pgid, 'SIGKILL')
    await waitForGroupExit(server.pgid, Date.now() + 2000)
  }
  // The leader is reaped by Node; wait for its exit event so no handle is left open.
  await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 1000))])
  forgetGroup(server.pgid)
  return { forced, stopMs: Date.now() - startedAt }
}
