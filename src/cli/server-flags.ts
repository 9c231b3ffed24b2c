import type { ServerOptions } from '../options.js'
import { ServerCoverageError } from '../errors.js'

/** The `run` options that describe one server, for `util.parseArgs`. */
export const SERVER_FLAGS = {
  command: { type: 'string' },
  app: { type: 'string' },
  workers: { type: 'string' },
  url: { type: 'string' },
  port: { type: 'string' },
  cwd: { type: 'string' },
  env: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  'graceful-shutdown-signal': { type: 'string' },
  'graceful-shutdown-timeout': { type: 'string' },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  runtime: { type: 'string' },
  name: { type: 'string' },
  'show-output': { type: 'boolean' },
} as const

type FlagValues = Partial<Record<keyof typeof SERVER_FLAGS, string | string[] | boolean>>

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!/^-?\d+$/.test(value)) {
    throw new ServerCoverageError('INVALID_OPTION', `server-coverage: expected the \`--${flag}\` option to be an integer, got \`${value}\`.`)
  }
  return number
}

function globs(values: string | string[] | boolean | undefined): string[] | undefined {
  if (values === undefined || typeof values === 'boolean') return undefined
  return (Array.isArray(values) ? values : [values]).flatMap((value) => value.split(',')).filter(Boolean)
}

/** Turns `run` flags into server options (validated later with the library's one template). */
export function serverOptionsFromFlags(values: FlagValues): ServerOptions | undefined {
  const get = (key: keyof typeof SERVER_FLAGS): string | undefined => {
    const value = values[key]
    return typeof value === 'string' ? value : undefined
  }
  if (get('command') === undefined && get('app') === undefined) return undefined
  const env: Record<string, string> = {}
  for (const pair of (values.env as string[] | undefined) ?? []) {
    const equals = pair.indexOf('=')
    if (equals <= 0) throw new ServerCoverageError('INVALID_OPTION', `server-coverage: expected the \`--env\` option as KEY=VALUE, got \`${pair}\`.`)
    env[pair.slice(0, equals)] = pair.slice(equals + 1)
  }
  const signal = get('graceful-shutdown-signal')
  const gracefulTimeout = integer('graceful-shutdown-timeout', get('graceful-shutdown-timeout'))
  const options: Record<string, unknown> = {
    command: get('command'),
    app: get('app'),
    workers: integer('workers', get('workers')),
    url: get('url'),
    port: integer('port', get('port')),
    cwd: get('cwd'),
    env: Object.keys(env).length ? env : undefined,
    timeout: integer('timeout', get('timeout')),
    gracefulShutdown: signal !== undefined || gracefulTimeout !== undefined ? { signal, timeout: gracefulTimeout } : undefined,
    include: globs(values.include),
    exclude: globs(values.exclude),
    runtime: get('runtime'),
    name: get('name'),
    ...(values['show-output'] ? { stdout: 'pipe', stderr: 'pipe' } : {}),
  }
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key]
  if (options.gracefulShutdown) {
    const graceful = options.gracefulShutdown as Record<string, unknown>
    for (const key of Object.keys(graceful)) if (graceful[key] === undefined) delete graceful[key]
  }
  return options as ServerOptions
}
