import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FetchApp } from './fetch-handler.js'
import { Server as NetServer } from 'node:net'
import { fetchRequestHandler } from './fetch-handler.js'

/**
 * Turns "whatever the user's module exports" into something the app host can serve: either a
 * Node request handler (the host wraps it in `http.createServer`) or a server the host calls
 * `.listen(port, host)` on. Kept free of cluster/env concerns so it can be unit-tested with real
 * objects.
 */

/** A Node `http` request listener: what Express apps, Koa's `app.callback()` and plain handlers are. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown

/** A server the host only has to listen on; `closeIdleConnections` exists on `http.Server` (Node 18.2+). */
export type ListenableServer = NetServer & { closeIdleConnections?: () => void }

export type ResolvedApp =
  | { kind: 'handler'; handler: RequestHandler; shape: AppShape }
  | { kind: 'server'; server: ListenableServer; shape: 'server' }

/** The shapes we recognise, in detection order (see `classifyApp`). */
export type AppShape = 'handler' | 'koa' | 'fastify' | 'server' | 'fetch' | 'factory'

/**
 * A loaded app module: `require()` gives `module.exports`, `import()` an ES module namespace
 * (where CommonJS `module.exports` is the `default` export).
 */
export interface LoadedModule {
  exports: unknown
  via: 'require' | 'import'
}

/** Thrown for every "this module does not export a servable app" case; the message is user-facing. */
export class AppResolveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AppResolveError'
  }
}

const SUPPORTED =
  'a request handler function (req, res) such as an Express app, a Koa app (has callback()), ' +
  'a Fastify instance (has routing() and ready()), a fetch-style app such as Hono (has fetch(request)), ' +
  'an http.Server that is not listening yet, or a zero-argument factory function returning (a promise of) one of those'

function get(value: unknown, key: string): unknown {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined
}

const isFn = (value: unknown): value is (...args: unknown[]) => unknown => typeof value === 'function'

/** Whether a value is an ES module namespace object (what `import()`, and `require()` of ESM, return). */
const isNamespace = (value: unknown): boolean => Object.prototype.toString.call(value) === '[object Module]'

/** Whether the loaded module is an ES module (imported, or an ESM file that `require()` loaded). */
export const isEsModule = (loaded: LoadedModule): boolean => loaded.via === 'import' || isNamespace(loaded.exports)

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
    const name = isNamespace(value) ? 'module namespace' : isFn(ctor) && ctor.name ? ctor.name : 'null-prototype'
    const keys = Object.keys(value)
    const shown = keys.slice(0, 12).join(', ') + (keys.length > 12 ? ', …' : '')
    return `object (${name}) with keys {${shown}}`
  }
  if (typeof value === 'string') return `string ${JSON.stringify(value.slice(0, 40))}`
  return `${typeof value} (${String(value)})`
}

/**
 * Classifies a value without calling anything. Order matters (objects can match several shapes):
 *  1. function with arity >= 2 → request handler (Express apps are `(req, res, next)`);
 *  2. object with callback() → Koa (Koa apps also have listen/on, hence before "server");
 *  3. object with routing() and ready() → Fastify (it also has listen/close);
 *  4. net.Server instance, or an object with listen/close/on → server;
 *  5. object with fetch() → a fetch-style app (Hono, `export default { fetch }`);
 *  6. function with arity 0 that is not a class → factory (a `(...args) => …` handler also has
 *     arity 0 and would be mistaken for a factory: handlers must declare `(req, res)`).
 * Arity-1 functions are rejected: a handler needs `res`, a factory takes no arguments. A module
 * namespace is never an app itself (its named exports could look like one by accident).
 */
export function classifyApp(value: unknown): AppShape | undefined {
  if (typeof value === 'function') {
    if (value.length >= 2) return 'handler'
    if (value.length === 0 && !/^class[\s{]/.test(Function.prototype.toString.call(value))) return 'factory'
    return undefined
  }
  if (typeof value !== 'object' || value === null || isNamespace(value)) return undefined
  if (isFn(get(value, 'callback'))) return 'koa'
  if (isFn(get(value, 'routing')) && isFn(get(value, 'ready'))) return 'fastify'
  if (value instanceof NetServer) return 'server'
  if (isFn(get(value, 'listen')) && isFn(get(value, 'close')) && isFn(get(value, 'on'))) return 'server'
  if (isFn(get(value, 'fetch'))) return 'fetch'
  return undefined
}

interface Candidate {
  name: string
  value: unknown
}

/**
 * Where an app may be, in order. `require()` result: `module.exports` itself (`module.exports =
 * app`), then its `default` (transpiled `export default`), `app`, `handler`. Namespace: `default`
 * (also CommonJS `module.exports` when imported), `app`, `handler`, then `default.app` and
 * `default.handler` (CommonJS `module.exports = { app }`, whose names Node's lexer may not detect).
 * With `appExport` only that name is tried (and `default.<name>`, for the same reasons).
 */
function candidates(loaded: LoadedModule, exportName: string | undefined): Candidate[] {
  const namespace = isEsModule(loaded)
  const root = loaded.exports
  const inner = get(root, 'default')
  const at = (name: string): Candidate => ({ name: namespace ? name : `module.exports.${name}`, value: get(root, name) })
  const inDefault = (name: string): Candidate => ({ name: namespace ? `default.${name}` : `module.exports.default.${name}`, value: get(inner, name) })
  if (exportName) return [at(exportName), inDefault(exportName)]
  if (namespace) return [at('default'), at('app'), at('handler'), inDefault('app'), inDefault('handler')]
  return [{ name: 'module.exports', value: root }, at('default'), at('app'), at('handler')]
}

/** How a candidate is named in messages: `export default`, `module.exports.app`. */
const candidateLabel = (name: string): string => (name.startsWith('module.exports') ? name : `export ${name}`)

/** Picks the first candidate with a supported shape, or explains every candidate it tried. */
export function pickExport(loaded: LoadedModule, moduleLabel: string, exportName?: string): Candidate & { shape: AppShape } {
  const tried = candidates(loaded, exportName)
  for (const candidate of tried) {
    const shape = classifyApp(candidate.value)
    if (shape) return { ...candidate, shape }
  }
  const found = tried.map(({ name, value }) => `  ${candidateLabel(name)}: ${value === undefined ? 'not exported' : describeValue(value)}`).join('\n')
  // `__esModule` is interop noise (require() of an ES module adds it), not something the user exported.
  const keys = typeof loaded.exports === 'object' || typeof loaded.exports === 'function' ? Object.keys(loaded.exports ?? {}).filter((key) => key !== '__esModule') : []
  throw new AppResolveError(
    `${moduleLabel} does not export an app to serve (tried ${tried.map((c) => candidateLabel(c.name)).join(', ')}; ` +
      `its exports: ${keys.join(', ') || '(none)'}).\nFound:\n${found}\nExpected ${SUPPORTED}.` +
      (exportName ? ' Check the `appExport` option.' : ' Set the `appExport` option to serve another export.'),
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
    case 'fetch':
      return { kind: 'handler', handler: fetchRequestHandler(value as FetchApp), shape }
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

/** `pickExport` + `resolveApp`: loaded module (+ optional export name) → servable app. */
export async function resolveHandler(loaded: LoadedModule, moduleLabel: string, exportName?: string): Promise<ResolvedApp> {
  const picked = pickExport(loaded, moduleLabel, exportName)
  return resolveApp(picked.value, `${candidateLabel(picked.name)} of ${moduleLabel}`)
}
