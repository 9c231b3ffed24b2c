// The options of one server, as users write them (`ServerOptions`) and as the stages consume them
// (`ResolvedServerOptions`). Validation and defaults: options.ts.

/** How to stop the server at the end of the run. */
export interface GracefulShutdown {
  /** Signal sent to the server's whole process group. @default 'SIGTERM' */
  signal?: 'SIGTERM' | 'SIGINT' | 'SIGHUP'
  /** Milliseconds to wait for the group to exit before SIGKILL. @default 5000 */
  timeout?: number
}

/** One server to boot under coverage. Names follow Playwright's `webServer` where one exists. */
export interface ServerOptions {
  /** Name used in progress lines and as the `inject`/env key when several servers run. @default 'server' for the first */
  name?: string
  /**
   * Command that starts the server. Run without a shell unless it contains shell syntax.
   * `{port}` is replaced by the port.
   * @example 'node dist/server.js'
   */
  command?: string
  /**
   * A module exporting an http request handler, Express/Koa/Fastify app or `http.Server`, hosted by
   * our own `node:cluster` host with `workers` processes. Use instead of `command`.
   */
  app?: string
  /**
   * The export of the `app` module to serve, when it is not the default one (`module.exports`,
   * `export default`, or an export named `app` or `handler`). It may be a factory (sync or async).
   * @example 'createApp'
   */
  appExport?: string
  /**
   * Instead of `command`/`app`: attach to a running `server-coverage serve` (its address, or `true`
   * to find it through `SERVER_COVERAGE_ATTACH` or `.server-coverage/serve.json`). The tests run
   * against its servers, the coverage since the attach enters the report, and the servers keep
   * running. Setting `SERVER_COVERAGE_ATTACH` in the runner's environment does the same for any
   * configuration.
   */
  attach?: string | true
  /**
   * Instead of `command`/`app`: collect from servers started by something else (docker compose,
   * pm2, another host). Listens at this `host:port` (loopback unless told otherwise) for network
   * agents: processes started with `NODE_OPTIONS="--require server-coverage/agent"` (or the Python
   * hook), `SERVER_COVERAGE_CONNECT=<this address>` and `SERVER_COVERAGE_TOKEN`, which send their
   * coverage over that connection.
   * @example '127.0.0.1:7171'
   */
  agents?: string
  /** With `agents`: a file whose first line is the agents' token. @default the `SERVER_COVERAGE_TOKEN` environment variable */
  tokenFile?: string
  /**
   * With `agents`: where the servers' paths are in this checkout, by prefix (`{ '/app': '.' }`),
   * like Coverage.py's `[paths]`. Without it, paths are matched by file content.
   */
  pathMap?: Record<string, string>
  /** Number of worker processes for `app`. @default 2 */
  workers?: number
  /**
   * Readiness probe: an HTTP URL that must answer 2xx/3xx. `{port}` is replaced by the port. A path
   * (`/health`) is resolved against `http://127.0.0.1:{port}`. @default a TCP connect to the port
   */
  url?: string
  /** Port for the server, passed as `PORT`. @default a free port */
  port?: number
  /** Working directory of the server. @default the project root */
  cwd?: string
  /** Extra environment for the server (merged over `process.env`). */
  env?: Record<string, string>
  /** Milliseconds to wait for readiness. @default 30000 */
  timeout?: number
  /** How the server is stopped. */
  gracefulShutdown?: GracefulShutdown
  /** `'pipe'` shows the server's output; `'ignore'` keeps only a tail for error messages. @default 'ignore' */
  stdout?: 'pipe' | 'ignore'
  /** As `stdout`. @default 'ignore' */
  stderr?: 'pipe' | 'ignore'
  /** Globs of server files to report. @default the runner's coverage include, else all files under `cwd` */
  include?: string[]
  /** Globs of server files not to report (`node_modules` never is). @default the runner's coverage exclude */
  exclude?: string[]
  /**
   * What the server runs on: `node` (V8 coverage) or `python` (Coverage.py). @default inferred from
   * `command` (`uwsgi`, `gunicorn`, `python`, `flask` → python), else node
   */
  runtime?: 'node' | 'python'
  /**
   * Python only: the interpreter that reads the Coverage.py data. @default the Python that runs the
   * server (inside uWSGI, the interpreter of its embedded Python's prefix)
   */
  python?: string
  /**
   * Milliseconds every server process has to acknowledge a flush before the collection goes on
   * without it (its data since its last flush is then missing, and the output names it).
   * @default 10000
   */
  flushTimeout?: number
  /**
   * Node servers: how the server's code is counted.
   * - `'v8'`: V8's precise block coverage (`NODE_V8_COVERAGE`) for the whole process.
   * - `'load'`: only the reported server files are counted: the agent instruments them as Node
   *   loads them, counting where V8 counts, and the counts go through the same converter (the
   *   reports equal the V8 route's). Every other function of the process (Node's http internals,
   *   express…) runs uncounted, so the server serves about as fast as without coverage (V8
   *   counting costs 0.4–0.8× the requests/s: see the README, "Counting on load"). Plain
   *   JavaScript only: not with a `.ts` entry or a loader/require hook (`--import`, `--loader`,
   *   `-r`) that transforms code, and worker threads are not counted.
   * @default 'v8'
   */
  counting?: 'v8' | 'load'
}

/** Options after validation and defaults: what the launcher and collector consume. */
export interface ResolvedServerOptions {
  name: string
  command: string | undefined
  app: string | undefined
  appExport: string | undefined
  attach: string | true | undefined
  agents: string | undefined
  tokenFile: string | undefined
  pathMap: { from: string; to: string }[]
  workers: number
  url: string | undefined
  port: number | undefined
  cwd: string
  env: Record<string, string>
  timeout: number
  gracefulShutdown: Required<GracefulShutdown>
  stdout: 'pipe' | 'ignore'
  stderr: 'pipe' | 'ignore'
  include: string[] | undefined
  exclude: string[] | undefined
  /** `network` for an `agents` collector (its agents say what they run). */
  runtime: 'node' | 'python' | 'network'
  /** Whether `runtime` was inferred from the command rather than given. */
  runtimeInferred: boolean
  python: string | undefined
  flushTimeout: number
  counting: 'v8' | 'load'
}
