import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { ParseFn } from './coverage/convert.js'
import type { FileFilter } from './coverage/filter.js'
import type { LaunchedServer } from './launch/launch.js'
import type { ResolvedServerOptions } from './options.js'
import type { ProcessCov, SourceMapCacheEntry } from './coverage/v8-types.js'
import type { ServerRuntime } from './runtimes/types.js'
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mergeProcessCovs } from '@bcoe/v8-coverage'
import { convertScripts } from './coverage/convert.js'
import { createFileFilter, globPredicate } from './coverage/filter.js'
import { mergeCoverageData } from './coverage/merge-map.js'
import { parseWithAcorn } from './coverage/parse.js'
import { CoverageDirReader } from './coverage/read.js'
import { ControlServer } from './launch/control-server.js'
import { createDataDir, removeDataDir } from './data-dir.js'
import { changedSourceMessages, flushMessages, forcedMessage, fullDiskMessage, lostProcessMessages } from './diagnostics.js'
import { describeServer, launchServer, stopServer } from './launch/launch.js'

const PACKAGE_DIST = dirname(fileURLToPath(import.meta.url))
const AGENT_PATH = join(PACKAGE_DIST, 'agent', 'preload.cjs')
const HOST_PATH = join(PACKAGE_DIST, 'host', 'cluster-host.js')
/** How long a flush waits for every process to acknowledge. */
const FLUSH_TIMEOUT_MS = 10_000

/** Options of a session: the servers, and whether to measure coverage at all. */
export interface SessionOptions {
  servers: ResolvedServerOptions[]
  /** When false the servers run without coverage (the runner's coverage is off). @default true */
  coverage?: boolean
  /** Receives progress lines. @default writes to stderr */
  log?: (line: string) => void
}

/** Options of a collection: which files to keep and how to parse them. */
export interface CollectOptions {
  /** Which files to report. @default each server's include/exclude relative to its cwd */
  filter?: (path: string) => boolean
  /** JavaScript parser handed to the converter. @default acorn */
  parse?: ParseFn
}

/** What a collection produced. */
export interface Collected {
  /** Istanbul data of the server files, keyed by absolute path. */
  data: CoverageMapData
  processes: number
  files: number
  /** Server processes that did not acknowledge the flush (their data since the last flush is missing). */
  unanswered: number
}

/** What `collectV8` produced: merged raw V8 coverage of the server, with what converting it needs. */
export interface V8Collected {
  /** Scripts merged across every process and checkpoint (already filtered). */
  processCov: ProcessCov
  /** Node's source maps of the kept scripts, by `file://` URL. */
  sourceMaps: Record<string, SourceMapCacheEntry>
  /** Folders where the agent saved in-memory sources (`<sha1 of url>.js`). */
  sourcesDirs: string[]
  /** Whether a converted (remapped) file belongs in the report. */
  accepts: (path: string) => boolean
  processes: number
  files: number
  unanswered: number
}

interface RunningServer {
  options: ResolvedServerOptions
  launched: LaunchedServer
  control: ControlServer
  reader: CoverageDirReader | undefined
  /** Set for non-Node runtimes (Python), which save and read their own data. */
  runtime: ServerRuntime | undefined
  /** Where the agent saves sources that exist only in memory (tsx and other loaders). */
  sourcesDir: string
  stopped: boolean
  /** Pids already reported as lost. */
  lostReported: Set<number>
  fullDiskReported: boolean
}

/** Which of a server's files are reported: the caller's filter, else the server's include/exclude. */
function fileFilter(server: RunningServer, options: CollectOptions): FileFilter {
  const isIncluded = options.filter ?? globPredicate(server.options.cwd, server.options.include, server.options.exclude)
  return createFileFilter(isIncluded, [PACKAGE_DIST])
}

function defaultLog(line: string): void {
  process.stderr.write(`server-coverage: ${line}\n`)
}

/**
 * One test run's servers under coverage: start → [tests] → collect (any number of times: each
 * returns what ran since the previous one) → stop. The data of a session lives in a private
 * temporary directory that `stop` removes.
 */
export class ServerCoverageSession {
  readonly #servers: RunningServer[]
  readonly #dataDir: string
  readonly #log: (line: string) => void
  readonly #coverage: boolean

  private constructor(servers: RunningServer[], dataDir: string, log: (line: string) => void, coverage: boolean) {
    this.#servers = servers
    this.#dataDir = dataDir
    this.#log = log
    this.#coverage = coverage
  }

  /** Boots every server under coverage and waits until each is ready. Throws (leaving nothing running) if one fails. */
  static async start(options: SessionOptions): Promise<ServerCoverageSession> {
    const log = options.log ?? defaultLog
    const coverage = options.coverage ?? true
    const dataDir = await createDataDir()
    const session = new ServerCoverageSession([], dataDir, log, coverage)
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
    const v8Dir = join(dir, 'v8')
    await mkdir(v8Dir, { recursive: true, mode: 0o700 })
    await mkdir(join(dir, 'sources'), { mode: 0o700 })
    const control = new ControlServer(join(dir, 'control.sock'))
    await control.listen()
    const nodeOptions = [options.env.NODE_OPTIONS ?? process.env.NODE_OPTIONS ?? '', `--require ${JSON.stringify(AGENT_PATH)}`]
      .filter(Boolean)
      .join(' ')
    const env: Record<string, string> = { NODE_OPTIONS: nodeOptions, SERVER_COVERAGE_SOCKET: control.socketPath }
    let runtime: ServerRuntime | undefined
    if (this.#coverage && options.runtime === 'python') {
      const { createPythonRuntime } = await import('./runtimes/python/index.js')
      runtime = await createPythonRuntime({ options, dir, socketPath: control.socketPath, log: this.#log })
      Object.assign(env, runtime.env)
    } else if (options.runtime === 'python') {
      // Coverage off: no hook, but uWSGI must still stop (not reload) on the session's SIGTERM.
      Object.assign(env, (await import('./runtimes/python/env.js')).UWSGI_STOP_ENV)
    } else if (this.#coverage) {
      env.NODE_V8_COVERAGE = v8Dir
      env.SERVER_COVERAGE_SOURCES = join(dir, 'sources')
    }
    if (options.runtimeInferred && options.runtime === 'python') this.#log(`"${options.command}" looks like a Python server: measuring it with Coverage.py (set \`runtime\` to override)`)
    const label = options.name === 'server' ? '' : `${options.name}: `
    this.#log(`${label}starting "${describeServer(options)}"${this.#coverage ? '' : ' (coverage off)'}…`)
    let launched: LaunchedServer
    try {
      launched = await launchServer(options, { env, hostScript: HOST_PATH })
    } catch (error) {
      await control.close()
      throw error
    }
    const reader = this.#coverage && !runtime ? new CoverageDirReader(v8Dir) : undefined
    const server: RunningServer = { options, launched, control, reader, runtime, sourcesDir: join(dir, 'sources'), stopped: false, lostReported: new Set(), fullDiskReported: false }
    this.#servers.push(server)
    if (runtime) {
      try {
        await runtime.verify()
      } catch (error) {
        await this.stop()
        throw error
      }
    }
    const processes = control.live.length
    this.#log(
      `${label}ready at ${launched.baseUrl} in ${launched.readyMs} ms (${processes} process${processes === 1 ? '' : 'es'} registered)`,
    )
  }

  #checkpointing: Promise<void> | undefined

  /**
   * Asks every live server process to write its coverage so far (a checkpoint), without reading
   * it: a process SIGKILLed later loses only what it ran after its last checkpoint. Overlapping
   * calls share one round. Never rejects.
   */
  checkpoint(): Promise<void> {
    if (!this.#coverage) return Promise.resolve()
    this.#checkpointing ??= (async () => {
      for (const server of this.#servers) if (!server.stopped) await server.control.flush(FLUSH_TIMEOUT_MS)
    })()
      .catch(() => {})
      .finally(() => (this.#checkpointing = undefined))
    return this.#checkpointing
  }

  /** The session's private data folder (mode 0700, removed by `stop`). */
  get dataDir(): string {
    return this.#dataDir
  }

  /** Base URL of each server by name, in start order. */
  get urls(): Record<string, string> {
    return Object.fromEntries(this.#servers.map((server) => [server.options.name, server.launched.baseUrl]))
  }

  /**
   * Flushes every live server process (each acknowledges its write), reads the coverage written
   * since the previous collection and merges it across processes as raw V8, unconverted: for
   * runners that convert V8 themselves (Jest's v8 provider). Most callers want `collect()`.
   */
  async collectV8(options: Pick<CollectOptions, 'filter'> = {}): Promise<V8Collected> {
    const collected: V8Collected = { processCov: { result: [] }, sourceMaps: {}, sourcesDirs: [], accepts: () => false, processes: 0, files: 0, unanswered: 0 }
    if (!this.#coverage) return collected
    const processCovs: ProcessCov[] = []
    const pids = new Set<string>()
    const filters: FileFilter[] = []
    for (const server of this.#servers) {
      if (!server.reader && !server.runtime) continue
      if (!server.stopped) {
        const flush = await server.control.flush(FLUSH_TIMEOUT_MS)
        this.#logAll(flushMessages(server.options.name, flush, FLUSH_TIMEOUT_MS))
        collected.unanswered += flush.unanswered.length
      }
      if (!server.reader) continue
      const filter = fileFilter(server, options)
      filters.push(filter)
      const read = await server.reader.read(filter.script, server.stopped)
      const reader = server.reader
      this.#logAll(lostProcessMessages(server.options.name, server.control.processes, (pid) => reader.latestWrite.get(`${pid}/0`) ?? 0, server.lostReported))
      if (read.corrupt.length > 0) {
        this.#log(`skipped ${read.corrupt.length} unreadable coverage file(s) of "${server.options.name}" (truncated or corrupt): ${read.corrupt.join(', ')}`)
      }
      if ((read.corrupt.length > 0 || read.pending.length > 0) && !server.fullDiskReported) {
        const full = await fullDiskMessage(server.reader.dir)
        if (full) this.#log(full)
        server.fullDiskReported = full !== undefined
      }
      processCovs.push(read.processCov)
      Object.assign(collected.sourceMaps, read.sourceMaps)
      for (const thread of read.threads) pids.add(`${server.options.name}/${thread}`)
      collected.files += read.files
      collected.sourcesDirs.push(server.sourcesDir)
    }
    collected.processCov = mergeProcessCovs(processCovs)
    collected.accepts = (path) => filters.some((filter) => filter.accepts(path))
    collected.processes = pids.size
    return collected
  }

  /**
   * Flushes every live server process, reads the coverage written since the previous collection,
   * merges it across processes as raw V8 and converts it once per file to istanbul data.
   */
  async collect(options: CollectOptions = {}): Promise<Collected> {
    const startedAt = Date.now()
    const v8 = await this.collectV8(options)
    const collected: Collected = { data: {}, processes: v8.processes, files: v8.files, unanswered: v8.unanswered }
    if (!this.#coverage) return collected
    const conversion = await convertScripts(v8.processCov.result, v8.sourceMaps, options.parse ?? parseWithAcorn, v8.sourcesDirs)
    for (const failure of conversion.failed) this.#log(`could not convert ${failure.path}: ${failure.reason} (left out of the report)`)
    for (const { path, reason } of conversion.unmapped) this.#log(`${path}: ${reason}; reported as the file that ran`)
    this.#logAll(changedSourceMessages(v8.processCov.result.map((script) => script.url), this.#startedAt, this.#changedReported))
    for (const [file, fileCoverage] of Object.entries(conversion.data)) {
      if (v8.accepts(file)) collected.data[file] = fileCoverage
    }
    for (const server of this.#servers) {
      if (!server.runtime) continue
      const read = await server.runtime.read(server.stopped, fileFilter(server, options).accepts)
      mergeCoverageData(collected.data, read.data)
      collected.processes += read.processes
      collected.files += read.files
    }
    const fileCount = Object.keys(collected.data).length
    this.#log(
      `collected coverage from ${collected.processes} process${collected.processes === 1 ? '' : 'es'}, ` +
        `${fileCount} file${fileCount === 1 ? '' : 's'} in ${Date.now() - startedAt} ms`,
    )
    return collected
  }

  readonly #startedAt = Date.now()
  readonly #changedReported = new Set<string>()

  #logAll(lines: readonly string[]): void {
    for (const line of lines) this.#log(line)
  }

  /**
   * Stops every server (graceful signal to the group, SIGKILL after `gracefulShutdown.timeout`),
   * says which processes were forced, and removes the session's data. Idempotent. With `collect`,
   * first reads what the servers wrote while shutting down (since the last `collect()`), so a CLI
   * run can report shutdown code too; a runner that already wrote its report does not need it.
   */
  async stop(options: CollectOptions & { collect?: boolean } = {}): Promise<Collected | undefined> {
    for (const server of this.#servers) {
      if (server.stopped) continue
      server.stopped = true
      const { forced } = await stopServer(server.launched, server.options)
      this.#logAll([forcedMessage(server.options.name, forced, server.options.gracefulShutdown)].filter((line) => line !== undefined))
      await server.control.close()
    }
    const leftovers = options.collect && this.#servers.length > 0 ? await this.collect(options) : undefined
    await removeDataDir(this.#dataDir)
    return leftovers
  }
}
