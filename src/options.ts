import type { ResolvedServerOptions } from './server-options.js'
import { isAbsolute, resolve } from 'node:path'
import { ServerCoverageError } from './errors.js'

export type { GracefulShutdown, ResolvedServerOptions, ServerOptions } from './server-options.js'

/**
 * Programs that run a Python server: WSGI/ASGI servers (`gunicorn -k uvicorn.workers.UvicornWorker`
 * is gunicorn), any Python (`python3 -m uvicorn`, `python manage.py runserver`), Django's
 * `django-admin` and an executable `./manage.py`, Flask's CLI and `coverage run`.
 */
const PYTHON_COMMANDS = /^(?:.*\/)?(?:uwsgi|gunicorn|uvicorn|hypercorn|python[\d.]*|flask|coverage|django-admin(?:\.py)?|manage\.py)$/

/** Infers the runtime from the command's program (after any `VAR=value` prefixes). */
export function inferRuntime(command: string | undefined): 'node' | 'python' {
  const program = command?.trim().split(/\s+/).find((word) => !/^\w+=/.test(word))
  return program && PYTHON_COMMANDS.test(program) ? 'python' : 'node'
}

const KNOWN_KEYS = new Set([
  'name', 'command', 'app', 'workers', 'url', 'port', 'cwd', 'env', 'timeout',
  'gracefulShutdown', 'stdout', 'stderr', 'include', 'exclude', 'runtime', 'appExport',
  'python', 'flushTimeout', 'attach', 'agents', 'tokenFile', 'pathMap', 'counting',
])

/** What to do instead, for options people look for that we do not have. */
const HINTS: Record<string, string> = {
  sticky:
    'There is no sticky mode: test clients such as supertest open a connection per request, and sticking by address sends all of them to one worker; for an app that keeps state in memory between requests, set `workers: 1`.',
  reuseExistingServer: 'To test against a server that is already running, start it with `server-coverage serve` and use the `attach` option (or SERVER_COVERAGE_ATTACH).',
}

function describe(value: unknown): string {
  if (value === null) return '`null`'
  if (Array.isArray(value)) return `\`${JSON.stringify(value)}\` (array)`
  if (typeof value === 'object') return '(object)'
  return `\`${String(value)}\` (${typeof value})`
}

function invalid(option: string, expected: string, value: unknown): ServerCoverageError {
  return new ServerCoverageError(
    'INVALID_OPTION',
    `expected the \`${option}\` option to be ${expected}, got ${describe(value)}.`,
  )
}

function optionalString(options: Record<string, unknown>, key: string, prefix: string): string | undefined {
  const value = options[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.trim() === '') throw invalid(prefix + key, 'a non-empty string', value)
  return value
}

function optionalInteger(value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(option, `an integer from ${min} to ${max}`, value)
  }
  return value
}

function optionalGlobs(value: unknown, option: string): string[] | undefined {
  if (value === undefined) return undefined
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) {
    throw invalid(option, 'a glob string or an array of glob strings', value)
  }
  return list as string[]
}

function oneOf<T extends string>(value: unknown, option: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) throw invalid(option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value)
  return value as T
}

/**
 * Validates one server's options and fills in defaults. `index` names the entry in messages when
 * several servers are configured; `root` resolves relative paths.
 */
export function resolveServerOptions(input: unknown, root: string, index = 0, many = false): ResolvedServerOptions {
  const prefix = many ? `servers[${index}].` : ''
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalid(many ? `servers[${index}]` : 'server options', 'an object', input)
  }
  const options = input as Record<string, unknown>
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) {
      const hint = HINTS[key] ? ` ${HINTS[key]}` : ''
      throw new ServerCoverageError(
        'INVALID_OPTION',
        `unknown option \`${prefix}${key}\`.${hint} Known options: ${[...KNOWN_KEYS].join(', ')}.`,
      )
    }
  }

  const command = optionalString(options, 'command', prefix)
  const app = optionalString(options, 'app', prefix)
  const attach = options.attach === true ? true : optionalString(options, 'attach', prefix)
  const agents = optionalString(options, 'agents', prefix)
  const given = [command, app, attach, agents].filter((value) => value !== undefined).length
  if (given !== 1) {
    throw new ServerCoverageError(
      'INVALID_OPTION',
      `give exactly one of the \`${prefix}command\` option (a command that starts your server), ` +
        `the \`${prefix}app\` option (a module exporting a request handler or app), ` +
        `the \`${prefix}attach\` option (a running \`server-coverage serve\`) ` +
        `or the \`${prefix}agents\` option (servers started elsewhere), got ${given === 0 ? 'none' : 'more than one'}.`,
    )
  }
  if (attach !== undefined && many) {
    throw new ServerCoverageError('INVALID_OPTION', `the \`${prefix}attach\` option attaches to every server of a running serve: give it alone, not in an array of servers.`)
  }
  const cwdOption = optionalString(options, 'cwd', prefix)
  const cwd = cwdOption === undefined ? root : resolve(root, cwdOption)
  const env = options.env
  if (env !== undefined) {
    if (env === null || typeof env !== 'object' || Array.isArray(env)) throw invalid(`${prefix}env`, 'an object of strings', env)
    for (const [key, value] of Object.entries(env)) {
      if (typeof value !== 'string') throw invalid(`${prefix}env.${key}`, 'a string', value)
    }
  }
  const graceful = options.gracefulShutdown
  if (graceful !== undefined && (graceful === null || typeof graceful !== 'object' || Array.isArray(graceful))) {
    throw invalid(`${prefix}gracefulShutdown`, 'an object `{ signal, timeout }`', graceful)
  }
  const gracefulOptions = (graceful ?? {}) as Record<string, unknown>
  const url = optionalString(options, 'url', prefix)
  const port = optionalInteger(options.port, `${prefix}port`, 1, 65535)
  if (url !== undefined && !url.startsWith('/') && !/^https?:\/\//.test(url)) {
    throw invalid(`${prefix}url`, 'an http(s) URL or a path starting with `/`', url)
  }
  const urlPort = url === undefined || url.startsWith('/') ? undefined : /^https?:\/\/[^/]*:(\d+)/.exec(url)?.[1]
  if (urlPort !== undefined && port === undefined) {
    throw new ServerCoverageError(
      'INVALID_OPTION',
      `the \`${prefix}url\` option "${url}" names port ${urlPort}, but the server gets a free port (no \`port\` option): ` +
        `write {port} in the URL, give a path such as "/health", or set \`port: ${urlPort}\`.`,
    )
  }
  for (const appOnly of ['workers', 'appExport']) {
    if (command !== undefined && options[appOnly] !== undefined) {
      throw new ServerCoverageError(
        'INVALID_OPTION',
        `the \`${prefix}${appOnly}\` option applies to \`app\` only; a \`command\` starts its own server.`,
      )
    }
  }
  for (const agentsOnly of ['tokenFile', 'pathMap']) {
    if (agents === undefined && options[agentsOnly] !== undefined) {
      throw new ServerCoverageError('INVALID_OPTION', `the \`${prefix}${agentsOnly}\` option applies to \`agents\` only.`)
    }
  }
  const pathMap = options.pathMap
  if (pathMap !== undefined && (pathMap === null || typeof pathMap !== 'object' || Array.isArray(pathMap) || Object.values(pathMap).some((to) => typeof to !== 'string'))) {
    throw invalid(`${prefix}pathMap`, 'an object of path prefixes (`{ "/app": "." }`)', pathMap)
  }
  const runtimeOption = options.runtime === undefined ? undefined : oneOf(options.runtime, `${prefix}runtime`, ['node', 'python'] as const, 'node')
  if (runtimeOption === 'python' && app !== undefined) {
    throw new ServerCoverageError('INVALID_OPTION', `the \`${prefix}app\` option hosts Node apps; for a Python server give a \`command\` (e.g. "uwsgi --ini app.ini").`)
  }
  const runtime = agents !== undefined ? 'network' : (runtimeOption ?? inferRuntime(command))
  const counting = oneOf(options.counting, `${prefix}counting`, ['v8', 'load'] as const, 'v8')
  if (counting === 'load' && runtime !== 'node') {
    const what = agents !== undefined
      ? 'servers started elsewhere (`agents`): their network agents measure with V8'
      : `a Python server (runtime 'python'${runtimeOption === undefined ? `, inferred from "${command}"` : ''}): Coverage.py measures it`
    throw new ServerCoverageError('INVALID_OPTION', `the \`${prefix}counting\` option 'load' counts Node servers we start; it does not apply to ${what}. Remove \`counting\`.`)
  }
  if (counting === 'load' && attach !== undefined) {
    throw new ServerCoverageError('INVALID_OPTION', `the \`${prefix}counting\` option does not apply to \`attach\`: the running \`server-coverage serve\` counts its servers as it was started. Give \`--counting load\` to the serve instead.`)
  }
  return {
    runtime,
    runtimeInferred: runtimeOption === undefined,
    name: optionalString(options, 'name', prefix) ?? (index === 0 ? 'server' : `server${index + 1}`),
    command,
    app: app === undefined ? undefined : isAbsolute(app) ? app : resolve(cwd, app),
    appExport: optionalString(options, 'appExport', prefix),
    attach,
    agents,
    tokenFile: optionalString(options, 'tokenFile', prefix),
    pathMap: Object.entries((pathMap ?? {}) as Record<string, string>).map(([from, to]) => ({ from, to })),
    workers: optionalInteger(options.workers, `${prefix}workers`, 1, 256) ?? 2,
    url,
    port,
    cwd,
    env: (env as Record<string, string> | undefined) ?? {},
    timeout: optionalInteger(options.timeout, `${prefix}timeout`, 1) ?? 30_000,
    gracefulShutdown: {
      signal: oneOf(gracefulOptions.signal, `${prefix}gracefulShutdown.signal`, ['SIGTERM', 'SIGINT', 'SIGHUP'] as const, 'SIGTERM'),
      timeout: optionalInteger(gracefulOptions.timeout, `${prefix}gracefulShutdown.timeout`, 0) ?? 5000,
    },
    stdout: oneOf(options.stdout, `${prefix}stdout`, ['pipe', 'ignore'] as const, 'ignore'),
    stderr: oneOf(options.stderr, `${prefix}stderr`, ['pipe', 'ignore'] as const, 'ignore'),
    include: optionalGlobs(options.include, `${prefix}include`),
    exclude: optionalGlobs(options.exclude, `${prefix}exclude`),
    python: optionalString(options, 'python', prefix),
    flushTimeout: optionalInteger(options.flushTimeout, `${prefix}flushTimeout`, 1) ?? 10_000,
    counting,
  }
}

/** Validates one server or an array of servers; names must be unique. */
export function resolveServers(input: unknown, root: string): ResolvedServerOptions[] {
  const many = Array.isArray(input)
  const list = many ? (input as unknown[]) : [input]
  if (list.length === 0) throw invalid('servers', 'a server options object or a non-empty array of them', input)
  const servers = list.map((entry, index) => resolveServerOptions(entry, root, index, many))
  const seen = new Set<string>()
  for (const server of servers) {
    if (seen.has(server.name)) {
      throw new ServerCoverageError('INVALID_OPTION', `two servers are named \`${server.name}\`; give each a unique \`name\`.`)
    }
    seen.add(server.name)
  }
  return servers
}
