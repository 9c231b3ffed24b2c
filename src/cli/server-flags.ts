import type { ServerOptions } from '../options.js'
import type { ParsedValues } from './usage.js'
import { listFlag, splitList, stringFlag, UsageError } from './usage.js'

/** The flags that describe one server (every server option, as a flag), for `util.parseArgs`. */
export const SERVER_FLAGS = {
  command: { type: 'string' },
  app: { type: 'string' },
  'app-export': { type: 'string' },
  workers: { type: 'string' },
  url: { type: 'string' },
  port: { type: 'string' },
  cwd: { type: 'string' },
  env: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  'graceful-shutdown-signal': { type: 'string' },
  'graceful-shutdown-timeout': { type: 'string' },
  'flush-timeout': { type: 'string' },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  runtime: { type: 'string' },
  python: { type: 'string' },
  name: { type: 'string' },
  'show-output': { type: 'boolean' },
  agents: { type: 'string' },
  'token-file': { type: 'string' },
  'path-map': { type: 'string', multiple: true },
  counting: { type: 'string' },
} as const

/** The help text of the server flags (kept next to their definition). */
export const SERVER_FLAGS_HELP = `Server options (or --config):
  --command <cmd>                 command that starts the server ({port} is replaced)
  --app <module>                  a module exporting an http handler / Express / Koa / Fastify app, hosted by our cluster
  --app-export <name>             the export of --app to serve (default: the default export, app or handler)
  --workers <n>                   workers for --app (default 2)
  --url <url|/path>               readiness probe, must answer 2xx/3xx (default: TCP connect)
  --port <n>                      port (default: a free one), passed as PORT
  --cwd <dir>                     working directory of the server
  --env KEY=VALUE                 extra environment (repeatable)
  --timeout <ms>                  readiness deadline (default 30000)
  --graceful-shutdown-signal <s>  SIGTERM (default), SIGINT or SIGHUP
  --graceful-shutdown-timeout <ms>  SIGKILL after this (default 5000)
  --flush-timeout <ms>            how long each server process has to answer a flush (default 10000)
  --include <glob>, --exclude <glob>  which server files are reported (repeatable or comma-separated;
                                  braces allowed: 'src/**/*.{js,ts}'; relative to --cwd)
  --runtime node|python           default: inferred from the command
  --counting v8|load              Node servers: V8 coverage for the whole process (v8, default), or count
                                  only the reported files, instrumented as they load (load: serves
                                  like no coverage; plain JavaScript only, see the README)
  --python <path>                 Python servers: the interpreter that reads the coverage data
  --name <name>                   key of SERVER_URL_<NAME>
  --show-output                   show the server's stdout/stderr
  --config <file>                 server options from a file (default: server-coverage.config.* or package.json "serverCoverage")

Servers started by something else (docker compose, pm2, another host):
  --agents <host:port>            also (or only) collect from network agents connecting here (loopback
                                  unless you give another address); their processes run with
                                  NODE_OPTIONS="--require server-coverage/agent", SERVER_COVERAGE_CONNECT=<host:port>
                                  and SERVER_COVERAGE_TOKEN
  --token-file <file>             the agents' shared secret (default: the SERVER_COVERAGE_TOKEN variable)
  --path-map <server>=<local>     where the servers' paths are in this checkout (repeatable; default:
                                  matched by file content)`

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^-?\d+$/.test(value)) throw new UsageError(`expected the \`--${flag}\` option to be an integer, got \`${value}\``)
  return Number(value)
}

/** The `--agents` collector as a server entry (with the include/exclude flags), or undefined. */
export function agentsFromFlags(values: ParsedValues): ServerOptions | undefined {
  const agents = stringFlag(values, 'agents')
  if (agents === undefined) {
    if (stringFlag(values, 'token-file') !== undefined || listFlag(values, 'path-map').length > 0) throw new UsageError('--token-file and --path-map apply to --agents')
    return undefined
  }
  const pathMap: Record<string, string> = {}
  for (const pair of listFlag(values, 'path-map')) {
    const equals = pair.indexOf('=')
    if (equals <= 0) throw new UsageError(`expected the \`--path-map\` option as FROM=TO, got \`${pair}\``)
    pathMap[pair.slice(0, equals)] = pair.slice(equals + 1)
  }
  const globs = (name: string): string[] | undefined => {
    const list = listFlag(values, name).flatMap(splitList)
    return list.length > 0 ? list : undefined
  }
  const options: Record<string, unknown> = {
    name: 'agents',
    agents,
    tokenFile: stringFlag(values, 'token-file'),
    pathMap: Object.keys(pathMap).length > 0 ? pathMap : undefined,
    include: globs('include'),
    exclude: globs('exclude'),
    cwd: stringFlag(values, 'cwd'),
  }
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key]
  return options as ServerOptions
}

/**
 * Turns server flags into server options (validated later by the library, with its one message
 * template). Undefined when no `--command`/`--app` was given.
 */
export function serverOptionsFromFlags(values: ParsedValues): ServerOptions | undefined {
  const get = (key: keyof typeof SERVER_FLAGS): string | undefined => stringFlag(values, key)
  if (get('command') === undefined && get('app') === undefined) return undefined
  const env: Record<string, string> = {}
  for (const pair of listFlag(values, 'env')) {
    const equals = pair.indexOf('=')
    if (equals <= 0) throw new UsageError(`expected the \`--env\` option as KEY=VALUE, got \`${pair}\``)
    env[pair.slice(0, equals)] = pair.slice(equals + 1)
  }
  const signal = get('graceful-shutdown-signal')
  const gracefulTimeout = integer('graceful-shutdown-timeout', get('graceful-shutdown-timeout'))
  const globs = (name: string): string[] | undefined => {
    const list = listFlag(values, name).flatMap(splitList)
    return list.length > 0 ? list : undefined
  }
  const options: Record<string, unknown> = {
    command: get('command'),
    app: get('app'),
    appExport: get('app-export'),
    workers: integer('workers', get('workers')),
    url: get('url'),
    port: integer('port', get('port')),
    cwd: get('cwd'),
    env: Object.keys(env).length ? env : undefined,
    timeout: integer('timeout', get('timeout')),
    gracefulShutdown:
      signal !== undefined || gracefulTimeout !== undefined
        ? { ...(signal !== undefined ? { signal } : {}), ...(gracefulTimeout !== undefined ? { timeout: gracefulTimeout } : {}) }
        : undefined,
    flushTimeout: integer('flush-timeout', get('flush-timeout')),
    include: globs('include'),
    exclude: globs('exclude'),
    runtime: get('runtime'),
    counting: get('counting'),
    python: get('python'),
    name: get('name'),
    ...(values['show-output'] ? { stdout: 'pipe', stderr: 'pipe' } : {}),
  }
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key]
  return options as ServerOptions
}
