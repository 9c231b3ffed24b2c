import type { IncomingMessage, ServerResponse } from 'node:http'
import { Server as NetServer } from 'node:net'

/**
 * Turns "whatever the user's module exports" into something the app host can serve: either a
 * Node request handler (the host wraps it in `http.createServer`) or a server the host calls
 * `.listen(port, host)` on. Kept free of cluster/env concerns so it can be unit-tested with real
 * objects, and so the primary can validate a module (shallowly) before forking any worker.
 */

/** A Node `http` request listener: what Express apps, Koa's `app.callback()` and plain handlers are. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown

/** A server the host only has to listen on; `closeIdleConnections` exists on `http.Server` (Node 18.2+). */
export type ListenableServer = NetServer & { closeIdleConnections?: () => void }

export type ResolvedApp =
  | { kind: 'handler'; handler: RequestHandler; shape: AppShape }
  | { kind: 'server'; server: ListenableServer; shape: 'server' }

/** The shapes we recognise, in detection order (see `classifyApp`). */
export type AppShape = 'handler' | 'koa' | 'fastify' | 'server' | 'factory'

/** Export names tried, in order, when `SERVER_COVERAGE_APP_EXPORT` is not set. */
export const DEFAULT_EXPORT_NAMES: readonly string[] = ['default', 'app', 'handler']

/** Thrown for every "this module does not export a servable app" case; the message is user-facing. */
export class AppResolveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AppResolveError'
  }
}

const SUPPORTED =
  'a request handler function (req, res) such as an Express app, a Koa app (has callback()), ' +
  'a Fastify instance (has routing() and ready()), an unstarted http.Server, ' +
  'or a zero-argument factory function returning (a promise of) one of those'

function get(value: unknown, key: string): unknown {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined
}

const isFn = (value: unknown): value is (...args: unknown[]) => unknown => typeof value === 'function'

/** A short human description of a value for error messages: its `typeof`, name/arity, keys. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'function') {
    const keys = Object.keys(value)
    const props = keys.length ? ` with keys {${keys.slice(0, 12).join(', ')}}` : ''
    return `function ${value.name || '(anonymous)'} of arity ${value.length}${props}`
  }
  if (typeof value === 'object') {
    const ctor = get(value, 'constructor')
    const name = isFn(ctor) && ctor.name ? ctor.name : 'null-prototype'
    const keys = Object.keys(value)
    const shown = keys.slice(0, 12).join(', ') + (keys.length > 12 ? ', …' : '')
    return `object (${name}) with keys {${shown}}`
  }
  if (typeof value === 'string') return `string ${JSON.stringify(value.slice(0, 40))}`
  return `${typeof value} (${String(value)})`
}

/**
 * Classifies a value without calling anything, so the primary can validate a module without
 * running user factories or Fastify plugins. Order matters (objects can match several shapes):
 *  1. function with arity >= 2 → request handler (Express apps are `(req, res, next)`);
 *  2. object with callback() → Koa (Koa apps also have listen/on, hence before "server");
 *  3. object with routing() and ready() → Fastify (it also has listen/close);
 *  4. net.Server instance, or an object with listen/close/on → server;
 *  5. function with arity 0 that is not a class → factory (a `(...args) => …` handler also has
 *     arity 0 and would be mistaken for a factory: handlers must declare `(req, res)`).
 * Arity-1 functions are rejected: a handler needs `res`, a factory takes no arguments.
 */
export function classifyApp(value: unknown): AppShape | undefined {
  if (typeof value === 'function') {
    if (value.length >= 2) return 'handler'
    if (value.length === 0 && !/^class[\s{]/.test(Function.prototype.toString.call(value))) return 'factory'
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  if (isFn(get(value, 'callback'))) return 'koa'
  if (isFn(get(value, 'routing')) && isFn(get(value, 'ready'))) return 'fastify'
  if (value instanceof NetServer) return 'server'
  if (isFn(get(value, 'listen')) && isFn(get(value, 'close')) && isFn(get(value, 'on'))) return 'server'
  return undefined
}

/**
 * Picks the export to serve. With an explicit name only that name is tried; otherwise
 * `default`, `app`, `handler`, then the namespace itself if callable. Because `import()` of a
 * CommonJS module exposes `module.exports` as `default` (named exports only when Node's lexer can
 * detect them), `default.<name>` is tried after `<name>`. The first candidate with a supported
 * shape wins, so `export default config; export const app = …` still finds `app`.
 */
export function pickExport(
  namespace: unknown,
  modulePath: string,
  exportName?: string,
): { name: string; value: unknown; shape: AppShape } {
  const names = exportName ? [exportName] : DEFAULT_EXPORT_NAMES
  const candidates: Array<{ name: string; value: unknown }> = []
  for (const name of names) candidates.push({ name, value: get(namespace, name) })
  const moduleExports = get(namespace, 'default')
  for (const name of names) {
    if (name !== 'default') candidates.push({ name: `default.${name}`, value: get(moduleExports, name) })
  }
  if (!exportName && typeof namespace === 'function') candidates.push({ name: '(module itself)', value: namespace })

  for (const candidate of candidates) {
    const shape = classifyApp(candidate.value)
    if (shape) return { ...candidate, shape }
  }
  const found = candidates
    .map(({ name, value }) => `  ${name}: ${value === undefined ? 'not exported' : describeValue(value)}`)
    .join('\n')
  const exportsList = Object.keys(namespace ?? {}).join(', ') || '(none)'
  throw new AppResolveError(
    `${modulePath} does not export a servable app (tried export ${candidates.map((c) => `"${c.name}"`).join(', ')}; ` +
      `module exports: ${exportsList}).\nFound:\n${found}\nExpected ${SUPPORTED}.` +
      (exportName ? '' : ' Set SERVER_COVERAGE_APP_EXPORT to choose another export.'),
  )
}

/**
 * Turns a value into something servable. May call user code: factories are called (once; a
 * factory returning another factory is rejected) and awaited, Fastify's `ready()` is awaited.
 */
export async function resolveApp(value: unknown, label: string, allowFactory = true): Promise<ResolvedApp> {
  const shape = classifyApp(value)
  switch (shape) {
    case 'handler':
      return { kind: 'handler', handler: value as RequestHandler, shape }
    case 'koa': {
      const handler = (get(value, 'callback') as () => unknown).call(value)
      if (classifyApp(handler) !== 'handler') {
        throw new AppResolveError(`${label}: callback() returned ${describeValue(handler)}, expected a (req, res) handler`)
      }
      return { kind: 'handler', handler: handler as RequestHandler, shape }
    }
    case 'fastify': {
      // Serve through our own http.Server with Fastify's router, so every worker's server is a plain
      // cluster-shared one; fastify.listen() would also work but adds its own lifecycle to manage.
      await (get(value, 'ready') as () => Promise<unknown>).call(value)
      const routing = get(value, 'routing') as RequestHandler
      return { kind: 'handler', handler: (req, res) => routing.call(value, req, res), shape }
    }
    case 'server': {
      const server = value as ListenableServer
      if (server.listening) {
        throw new AppResolveError(`${label} is an http.Server that is already listening; export it without calling listen()`)
      }
      return { kind: 'server', server, shape }
    }
    case 'factory': {
      if (!allowFactory) {
        throw new AppResolveError(`${label} returned another zero-argument function; expected ${SUPPORTED}`)
      }
      let produced: unknown
      try {
        produced = await (value as () => unknown)()
      } catch (error) {
        throw new AppResolveError(
          `${label} was called as a zero-argument factory and threw: ${error instanceof Error ? error.message : String(error)}` +
            ' (if it is a request handler, declare its (req, res) parameters)',
          { cause: error },
        )
      }
      return resolveApp(produced, `${label} (factory result)`, false)
    }
    default:
      throw new AppResolveError(`${label} is ${describeValue(value)}; expected ${SUPPORTED}`)
  }
}

/** `pickExport` + `resolveApp`: module namespace (+ optional export name) → servable app. */
export async function resolveHandler(namespace: unknown, modulePath: string, exportName?: string): Promise<ResolvedApp> {
  const picked = pickExport(namespace, modulePath, exportName)
  return resolveApp(picked.value, `export "${picked.name}" of ${modulePath}`)
}
