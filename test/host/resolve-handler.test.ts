import type { AddressInfo } from 'node:net'
import type { LoadedModule, RequestHandler } from '../../src/host/resolve-handler.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { AppResolveError, classifyApp, describeValue, pickExport, resolveApp, resolveHandler } from '../../src/host/resolve-handler.js'

const LABEL = 'the `app` module src/app.js'
const servers: Array<ReturnType<typeof createServer>> = []

const dirs: string[] = []
const tmp = (dir: string): string => (dirs.push(dir), dir)
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

/**
 * What `import()` gives: a real module namespace object. Made with Node's own `require(esm)` of a
 * temporary file, because Vitest's module runner answers `import()` with its own objects.
 */
async function namespace(exports: Record<string, unknown>): Promise<LoadedModule> {
  const id = `ns${Math.random().toString(36).slice(2)}`
  ;(globalThis as Record<string, unknown>)[id] = exports
  const source = Object.keys(exports)
    .map((name) => (name === 'default' ? `export default globalThis.${id}.default` : `export const ${name} = globalThis.${id}.${name}`))
    .join('\n')
  const file = join(tmp(mkdtempSync(join(tmpdir(), 'sc-ns-'))), 'module.mjs')
  writeFileSync(file, source)
  return { exports: createRequire(import.meta.url)(file) as unknown, via: 'import' }
}

/** What `require()` gives: `module.exports` itself. */
const commonjs = (exports: unknown): LoadedModule => ({ exports, via: 'require' })

/** Serves a resolved handler on a real socket and returns the response of `method path`. */
async function serve(handler: RequestHandler, path = '/', init: RequestInit = {}): Promise<Response> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return fetch(`http://127.0.0.1:${port}${path}`, init)
}

const text = async (handler: RequestHandler, path = '/'): Promise<string> => (await serve(handler, path)).text()

function expressApp(): express.Express {
  const app = express()
  app.get('/hello', (_req, res) => void res.json({ hello: 'express' }))
  return app
}

async function resolveError(promise: Promise<unknown>): Promise<AppResolveError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(AppResolveError)
  return error as AppResolveError
}

function handlerOf(resolved: Awaited<ReturnType<typeof resolveHandler>>): RequestHandler {
  if (resolved.kind !== 'handler') throw new Error(`expected a handler, got ${resolved.kind}`)
  return resolved.handler
}

describe('classifyApp', () => {
  it('recognises each real framework without calling anything', () => {
    expect(classifyApp(expressApp())).toBe('handler')
    expect(classifyApp((_req: unknown, _res: unknown) => {})).toBe('handler')
    expect(classifyApp(new Koa())).toBe('koa')
    expect(classifyApp(Fastify())).toBe('fastify')
    expect(classifyApp(new Hono())).toBe('fetch')
    expect(classifyApp({ fetch: (_request: Request) => new Response('x') })).toBe('fetch')
    expect(classifyApp(createServer())).toBe('server')
    expect(classifyApp(() => expressApp())).toBe('factory')
    expect(classifyApp(async () => expressApp())).toBe('factory')
  })

  it('rejects values that are none of the shapes', async () => {
    expect(classifyApp(42)).toBeUndefined()
    expect(classifyApp(null)).toBeUndefined()
    expect(classifyApp({ port: 3000 })).toBeUndefined()
    expect(classifyApp((_req: unknown) => {})).toBeUndefined() // arity 1: neither handler nor factory
    expect(classifyApp(Koa)).toBeUndefined() // a class must be instantiated by the user
    // A namespace whose named exports happen to be listen/close/on is not a server.
    expect(classifyApp((await namespace({ listen: () => {}, close: () => {}, on: () => {} })).exports)).toBeUndefined()
  })
})

describe('resolveHandler: ES module namespaces (import())', () => {
  it('serves a real Express app exported as default', async () => {
    const resolved = await resolveHandler(await namespace({ default: expressApp() }), LABEL)
    expect(JSON.parse(await text(handlerOf(resolved), '/hello'))).toEqual({ hello: 'express' })
  })

  it('uses callback() of a real Koa app', async () => {
    const koa = new Koa()
    koa.use((ctx) => {
      ctx.body = 'koa'
    })
    const resolved = await resolveHandler(await namespace({ app: koa }), LABEL)
    expect(resolved.shape).toBe('koa')
    expect(await text(handlerOf(resolved))).toBe('koa')
  })

  it('awaits ready() of a real Fastify instance, then routes through routing()', async () => {
    const fastify = Fastify()
    fastify.get('/', async () => 'fastify')
    const resolved = await resolveHandler(await namespace({ default: fastify }), LABEL)
    expect(resolved.shape).toBe('fastify')
    expect(await text(handlerOf(resolved))).toBe('fastify')
    await fastify.close()
  })

  it('serves a real Hono app through fetch(): method, path, query, headers, body, status, every Set-Cookie', async () => {
    const hono = new Hono()
    hono.post('/echo', async (c) => {
      c.header('set-cookie', 'a=1', { append: true })
      c.header('set-cookie', 'b=2', { append: true })
      return c.json({ q: c.req.query('q'), header: c.req.header('x-test'), body: await c.req.text() }, 201)
    })
    const handler = handlerOf(await resolveHandler(await namespace({ default: hono }), LABEL))
    const response = await serve(handler, '/echo?q=1', { method: 'POST', headers: { 'x-test': 'yes' }, body: 'payload' })
    expect(response.status).toBe(201)
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(await response.json()).toEqual({ q: '1', header: 'yes', body: 'payload' })
    expect((await serve(handler, '/missing')).status).toBe(404)
  })

  it('answers 500 when fetch() throws', async () => {
    const handler = handlerOf(await resolveHandler(await namespace({ default: { fetch: () => Promise.reject(new Error('fetch broke')) } }), LABEL))
    expect((await serve(handler)).status).toBe(500)
  })

  it('returns an unstarted http.Server as a server to listen on', async () => {
    const server = createServer((_req, res) => res.end('server'))
    expect(await resolveHandler(await namespace({ handler: server }), LABEL)).toEqual({ kind: 'server', server, shape: 'server' })
  })

  it('calls a zero-argument (async) factory once and resolves its result', async () => {
    let calls = 0
    const createApp = async (): Promise<express.Express> => {
      calls++
      return expressApp()
    }
    const resolved = await resolveHandler(await namespace({ default: createApp }), LABEL)
    expect(calls).toBe(1)
    expect(JSON.parse(await text(handlerOf(resolved), '/hello'))).toEqual({ hello: 'express' })
  })

  it('tries default, app, handler in order and skips non-app exports', async () => {
    const handler = (_req: IncomingMessage, res: ServerResponse): void => void res.end('handler export')
    expect(handlerOf(await resolveHandler(await namespace({ default: { config: true }, handler }), LABEL))).toBe(handler)
  })

  it('finds default.app for CommonJS module.exports = { app } imported without detected named exports', async () => {
    const app = expressApp()
    expect(pickExport(await namespace({ default: { app } }), LABEL)).toMatchObject({ name: 'default.app', value: app, shape: 'handler' })
  })

  it('honours `appExport` (an async named factory) and only tries that name', async () => {
    const loaded = await namespace({ default: { description: 'config' }, createApp: async () => expressApp() })
    expect(pickExport(loaded, LABEL, 'createApp')).toMatchObject({ name: 'createApp', shape: 'factory' })
    const error = await resolveError(resolveHandler(loaded, LABEL, 'missing'))
    expect(error.message).toContain(`${LABEL} does not export an app to serve (tried export missing, export default.missing; its exports: createApp, default)`)
    expect(error.message).toContain('Check the `appExport` option.')
  })

  it('names every export tried and what was found', async () => {
    const error = await resolveError(resolveHandler(await namespace({ default: 42, other: 'x' }), LABEL))
    expect(error.message).toContain('tried export default, export app, export handler, export default.app, export default.handler')
    expect(error.message).toContain('its exports: default, other')
    expect(error.message).toContain('export default: number (42)')
    expect(error.message).toContain('export app: not exported')
    expect(error.message).toContain('Set the `appExport` option to serve another export.')
  })
})

describe('resolveHandler: CommonJS module.exports (require())', () => {
  it('serves module.exports = app itself', async () => {
    const resolved = await resolveHandler(commonjs(expressApp()), LABEL)
    expect(JSON.parse(await text(handlerOf(resolved), '/hello'))).toEqual({ hello: 'express' })
  })

  it('serves exports.default (transpiled ESM) and exports.app', async () => {
    const handler = (_req: IncomingMessage, res: ServerResponse): void => void res.end('h')
    expect(pickExport(commonjs({ __esModule: true, default: handler }), LABEL)).toMatchObject({ name: 'module.exports.default', value: handler })
    expect(pickExport(commonjs({ app: handler, start: (_port: number) => {} }), LABEL)).toMatchObject({ name: 'module.exports.app', value: handler })
  })

  it('treats require() of an ES module (a namespace) as a namespace', async () => {
    const handler = (_req: IncomingMessage, res: ServerResponse): void => void res.end('h')
    const loaded = await namespace({ default: handler })
    expect(pickExport({ exports: loaded.exports, via: 'require' }, LABEL)).toMatchObject({ name: 'default', value: handler })
  })

  it('names module.exports and its properties when nothing fits', async () => {
    const error = await resolveError(resolveHandler(commonjs({ port: 3000, routes: [] }), LABEL))
    expect(error.message).toContain('tried module.exports, module.exports.default, module.exports.app, module.exports.handler; its exports: port, routes')
    expect(error.message).toContain('module.exports: object (Object) with keys {port, routes}')
    const unary = await resolveError(resolveHandler(commonjs(function serve(_req: unknown) {}), LABEL))
    expect(unary.message).toContain('module.exports: function serve of arity 1')
  })
})

describe('resolveApp: factories and servers', () => {
  it('reports a factory that throws, with a hint about handler parameters', async () => {
    const error = await resolveError(
      resolveHandler(
        commonjs(() => {
          throw new Error('db down')
        }),
        LABEL,
      ),
    )
    expect(error.message).toContain(`module.exports of ${LABEL} was called as a zero-argument factory and threw: db down`)
    expect(error.message).toContain('declare its (req, res) parameters')
    expect(error.cause).toBeInstanceOf(Error)
  })

  it('reports a factory whose result is not an app, and refuses factories of factories', async () => {
    const bad = await resolveError(resolveHandler(await namespace({ default: async () => 42 }), LABEL))
    expect(bad.message).toContain(`export default of ${LABEL} (factory result) is number (42)`)
    const nested = await resolveError(resolveHandler(commonjs(() => () => expressApp()), LABEL))
    expect(nested.message).toContain('returned another zero-argument function')
  })

  it('refuses an http.Server that is already listening', async () => {
    const server = createServer()
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const error = await resolveError(resolveApp(server, `export default of ${LABEL}`))
    expect(error.message).toContain('already listening')
  })
})

describe('describeValue', () => {
  it('gives typeof plus useful detail', async () => {
    expect(describeValue(undefined)).toBe('undefined (undefined)')
    expect(describeValue(null)).toBe('null')
    expect(describeValue('x')).toBe('string "x"')
    expect(describeValue(Object.create(null))).toBe('object (null-prototype) with keys {}')
    expect(describeValue(function named(_a: unknown) {})).toBe('function named of arity 1')
    expect(describeValue((await namespace({ a: 1 })).exports)).toBe('object (module namespace) with keys {a}')
  })
})
