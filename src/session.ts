import type { Collected, CollectOptions, CoverageSession, ReadOptions, SessionRead } from './collect.js'
import type { ServerScope } from './coverage/filter.js'
import type { FlushResult } from './launch/control-server.js'
import type { LaunchedServer } from './launch/launch.js'
import type { ResolvedServerOptions } from './options.js'
import type { Runtime } from './runtimes/types.js'
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { convertRead } from './collect.js'
import { reportFilter } from './coverage/filter.js'
import { createDataDir, removeDataDir } from './data-dir.js'
import { flushMessages, forcedMessage } from './diagnostics.js'
import { ControlServer } from './launch/control-server.js'
import { describeServer, launchServer, stopServer } from './launch/launch.js'
import { ServerCoverageError, formatOutputTail } from './errors.js'
import { defaultLog, plural } from './messages.js'
import { loadRuntime } from './runtimes/index.js'

/** Options of a session: the servers, and whether to measure coverage at all. */
export interface SessionOptions {
  servers: ResolvedServerOptions[]
  /** When false the servers run without coverage (the runner's coverage is off). @default true */
  coverage?: boolean
  /** Receives progress lines (without the `server-coverage: ` prefix). @default stderr, prefixed */
  log?: (line: string) => void
}

interface RunningServer {
  options: ResolvedServerOptions
  /** Undefined for a network collector: those servers were started by something else. */
  launched: LaunchedServer | undefined
  control: ControlServer
  runtime: Runtime
  stopped: boolean
}

/** The app host (`app` option), built next to this module. */
const HOST_PATH = join(dirname(fileURLToPath(import.meta.url)), 'host', 'cluster-host.js')

const scopeOf = (options: ResolvedServerOptions): ServerScope => ({ cwd: options.cwd, include: options.include, exclude: options.exclude })

/**
 * One test run's servers under coverage. The session only wires the stages — a private folder,
 * the control channel, the runtime, launch, flush, read, stop — and never asks which runtime a
 * server runs on: `start` → [tests] → `collect`/`read` (any number of times: each returns what
 * ran since the previous one) → `stop`.
 */
export class ServerCoverageSession implements CoverageSession {
  readonly #servers: RunningServer[] = []
  readonly #dataDir: string
  readonly #log: (line: string) => void
  readonly #coverage: boolean
  #checkpointing: Promise<void> | undefined

  private constructor(dataDir: string, log: (line: string) => void, coverage: boolean) {
    this.#dataDir = dataDir
    this.#log = log
    this.#coverage = coverage
  }

  /** Boots every server under coverage and waits until each is ready. Throws (leaving nothing running) if one fails. */
  static async start(options: SessionOptions): Promise<ServerCoverageSession> {
    const session = new ServerCoverageSession(await createDataDir(), options.log ?? defaultLog, options.coverage ?? true)
    try {
      for (const serverOptions of options.servers) await session.#startOne(serverOptions)
    } catch (error) {
      await session.stop()
      throw error
    }
    // V8's first flush of a process is its expensive one (~125 ms of CPU: bench/RESULTS.md): pay it
    // now, while the tests start, rather than at the end of the run.
    void session.checkpoint()
    return session
  }

  async #startOne(options: ResolvedServerOptions): Promise<void> {
    // The index keeps folders unique and inside the data dir whatever the name (`..`, `a b` vs `a_b`).
    const dir = join(this.#dataDir, `${this.#servers.length}-${options.name.replace(/[^\w-]/g, '_')}`)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const label = options.name === 'server' ? '' : `${options.name}: `
    const log = (line: string): void => this.#log(label + line)
    const socketPath = join(dir, 'control.sock')
    const runtime = await (await loadRuntime(options.runtime))({ options, dir, socketPath, coverage: this.#coverage, log })
    const control = new ControlServer(socketPath, runtime.network)
    await listenControl(control, options)
    if (runtime.network) {
      // Servers started by something else: nothing to launch, their agents connect to us.
      this.#servers.push({ options, launched: undefined, control, runtime, stopped: false })
      log(`listening for network agents at ${control.socketPath} (their SERVER_COVERAGE_CONNECT; token from ${options.tokenFile ?? 'SERVER_COVERAGE_TOKEN'})`)
      return
    }
    let launched: LaunchedServer
    try {
      if (options.runtimeInferred && options.runtime !== 'node') {
        const name = options.runtime[0]!.toUpperCase() + options.runtime.slice(1)
        log(`"${options.command}" looks like a ${name} server (runtime '${options.runtime}'; set the \`runtime\` option to override)`)
      }
      log(`starting "${describeServer(options)}"${this.#coverage ? '' : ' (coverage off)'}…`)
      launched = await launchServer(options, { env: { ...runtime.env, SERVER_COVERAGE_SOCKET: control.socketPath }, hostScript: HOST_PATH })
    } catch (error) {
      await control.close()
      throw error
    }
    this.#servers.push({ options, launched, control, runtime, stopped: false })
    if (this.#coverage) {
      try {
        await runtime.verify()
      } catch (error) {
        // Like every start failure, it ends with what the server printed.
        if (error instanceof ServerCoverageError) error.message += formatOutputTail(launched.output.tail())
        throw error
      }
    }
    // The app host's primary and every worker register; a worker can listen before its agent has.
    if (launched.workers) await control.waitForRegistrations(launched.workers.total + 1, 2000)
    log(`ready at ${launched.baseUrl} in ${launched.readyMs} ms (${readyDetail(launched, control.live.length)})`)
  }

  /** The session's private data folder (mode 0700, removed by `stop`). */
  get dataDir(): string {
    return this.#dataDir
  }

  /** Base URL of each server by name, in start order. */
  get urls(): Record<string, string> {
    return Object.fromEntries(this.#servers.flatMap((server) => (server.launched ? [[server.options.name, server.launched.baseUrl]] : [])))
  }

  /**
   * Asks every live server process to save its coverage so far (a checkpoint), without reading
   * it: a process SIGKILLed later loses only what it ran after its last checkpoint. Overlapping
   * calls share one round. Never rejects.
   */
  checkpoint(): Promise<void> {
    if (!this.#coverage) return Promise.resolve()
    this.#checkpointing ??= Promise.all(this.#servers.filter((server) => !server.stopped).map((server) => server.control.flush(server.options.flushTimeout)))
      .then(() => undefined, () => undefined)
      .finally(() => (this.#checkpointing = undefined))
    return this.#checkpointing
  }

  /** Flushes every live process of every server at once; says who did not answer. */
  async #flushAll(): Promise<number> {
    const live = this.#servers.filter((server) => !server.stopped)
    const results = await Promise.all(live.map((server) => server.control.flush(server.options.flushTimeout)))
    let unanswered = 0
    results.forEach((result: FlushResult, index) => {
      const server = live[index]!
      for (const line of flushMessages(server.options.name, result, server.options.flushTimeout)) this.#log(line)
      unanswered += result.unanswered.length
    })
    return unanswered
  }

  async #readAll(options: ReadOptions, unanswered: number): Promise<SessionRead> {
    const read: SessionRead = { servers: [], processes: 0, files: 0, unanswered }
    for (const server of this.#servers) {
      const scope = scopeOf(server.options)
      const result = await server.runtime.read({ final: server.stopped, filter: reportFilter(scope, options.filter), agents: server.control.processes })
      for (const coverage of [result.coverage].flat()) read.servers.push({ name: server.options.name, scope, coverage })
      read.processes += result.processes
      read.files += result.files
    }
    return read
  }

  /**
   * Flushes every live server process (each acknowledges that its data is saved) and reads what
   * ran since the previous read, per server, in each runtime's own form (raw V8 for Node). For
   * runners that convert V8 themselves (Jest's v8 provider); most callers want `collect()`.
   */
  async read(options: ReadOptions = {}): Promise<SessionRead> {
    if (!this.#coverage) return { servers: [], processes: 0, files: 0, unanswered: 0 }
    return this.#readAll(options, await this.#flushAll())
  }

  /**
   * Flushes every live server process, reads what ran since the previous read, and converts it
   * to istanbul data (V8 once per script, with Node's source maps).
   */
  async collect(options: CollectOptions = {}): Promise<Collected> {
    const startedAt = Date.now()
    if (!this.#coverage) return { data: {}, processes: 0, files: 0, unanswered: 0 }
    return convertRead(await this.read(options), options, startedAt, this.#log)
  }

  /**
   * Stops every server (graceful signal to each group, SIGKILL after `gracefulShutdown.timeout`),
   * says which processes were forced, and removes the session's data. Idempotent. With `collect`,
   * every process is flushed *before* anything is signalled, and what ran since the previous read
   * (including the servers' own shutdown code) is returned: how a CLI or Playwright run reports.
   */
  async stop(options: CollectOptions & { collect?: boolean } = {}): Promise<Collected | undefined> {
    const startedAt = Date.now()
    if (options.collect !== true || !this.#coverage || this.#servers.length === 0) {
      await this.#stopAll()
      return undefined
    }
    // Convert before the data goes: the agent's saved copies of in-memory code (tsx) live there.
    const read = await this.stopAndRead({ ...options, keepData: true })
    try {
      return await convertRead(read, options, startedAt, this.#log)
    } finally {
      await removeDataDir(this.#dataDir)
    }
  }

  /**
   * `stop` with a final read, unconverted: every live process is flushed before anything is
   * signalled, then the servers stop, then what ran since the previous read (shutdown code
   * included) is read. For a `serve`, which sums reads for its clients.
   */
  async stopAndRead(options: ReadOptions & { keepData?: boolean } = {}): Promise<SessionRead> {
    const unanswered = this.#coverage ? await this.#flushAll() : 0
    await this.#stopAll(false)
    try {
      return this.#coverage ? await this.#readAll(options, unanswered) : { servers: [], processes: 0, files: 0, unanswered: 0 }
    } finally {
      // The raw read names folders of saved sources (tsx): a caller converting it later keeps them until done.
      if (!options.keepData) await removeDataDir(this.#dataDir)
    }
  }

  /** Whether the servers run under coverage. */
  get coverage(): boolean {
    return this.#coverage
  }

  /** Signals every server's group, waits, SIGKILLs what is left; removes the data unless told to keep it for a last read. */
  async #stopAll(removeData = true): Promise<void> {
    await Promise.all(
      this.#servers
        .filter((server) => !server.stopped)
        .map(async (server) => {
          server.stopped = true
          if (server.launched) {
            const { forced } = await stopServer(server.launched, server.options)
            const message = forcedMessage(server.options.name, forced, server.options.gracefulShutdown)
            if (message) this.#log(message)
          } else {
            // Network agents keep their servers running; they reconnect to the next collector.
            server.control.sayGoodbye()
          }
          await server.control.close()
        }),
    )
    if (removeData) await removeDataDir(this.#dataDir)
  }
}

/** `4 of 4 workers listening, 5 processes registered` (app) or `3 processes registered so far`. */
function readyDetail(launched: LaunchedServer, registered: number): string {
  const workers = launched.workers
  if (workers) return `${workers.listening} of ${workers.total} workers listening, ${plural(registered, 'process')} registered`
  return `${plural(registered, 'process')} registered so far`
}

/** Listens on the control channel; a network address that is taken is said as such. */
async function listenControl(control: ControlServer, options: ResolvedServerOptions): Promise<void> {
  try {
    await control.listen()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && options.agents !== undefined) {
      throw new ServerCoverageError('PORT_IN_USE', `the \`agents\` address ${options.agents} is already in use: is another collector (\`serve --agents\`) running? Stop it, or choose another port.`, { cause: error })
    }
    throw error
  }
}
