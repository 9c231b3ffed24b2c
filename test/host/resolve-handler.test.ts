import type { AddressInfo } from 'node:net'
import type { RequestHandler } from '../../src/host/resolve-handler.js'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AppResolveError,
  classifyApp,
  describeValue,
  pickExport,
  resolveApp,
  resolveHandler,
} from '../../src/host/resolve-handler.js'

const MODULE = '/abs/app.mjs'
const servers: Array<ReturnType<typeof createServer>> = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

/** Serves a resolved handler on a real socket and returns the body of GET `path`. */
async function serve(handler: RequestHandler, path = '/'): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const response = await fetch(`http://127.0.0.1:${port}${path}`)
  return response.text()
}

function expressApp(): express.Express {
  const app = express()
  app.get('/hello', (_req, res) => void res.json({ hello: 'express' }))
  return app
}

/** A Koa-shaped app: the real Koa contract is `callback()` returning a `(req, res)` listener. */
class KoaLike {
  callback(): (req: IncomingMessage, res: ServerResponse) => void {
    return (_req, res) => res.end('koa')
  }
  listen(): void {
    throw new Error('the host must use callback(), not listen()')
  }
}

/** A Fastify-shaped app: `ready()` must be awaited before `routing(req, res)` is used. */
class FastifyLike {
  isReady = false
  async ready(): Promise<void> {
    this.isReady = true
  }
  routing(_req: IncomingMessage, res: ServerResponse): void {
    res.end(this.isReady ? 'fastify ready' : 'fastify NOT ready')
  }
  listen(): void {
    throw new Error('the host must use routing(), not listen()')
  }
  close(): void {}
}

async function resolveError(promise: Promise<unknown>): Promise<AppResolveError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(AppResolveError)
  return error as AppResolveError
}

describe('classifyApp', () => {
  it('recognises each shape without calling anything', () => {
    expect(classifyApp(expressApp())).toBe('handler')
    expect(classifyApp((_req: unknown, _res: unknown) => {})).toBe('handler')
    expect(classifyApp(new KoaLike())).toBe('koa')
    expect(classifyApp(new FastifyLike())).toBe('fastify')
    expect(classifyApp(createServer())).toBe('server')
    expect(classifyApp(() => expressApp())).toBe('factory')
    expect(classifyApp(async () => expressApp())).toBe('factory')
  })

  it('rejects values that are none of the shapes', () => {
    expect(classifyApp(42)).toBeUndefined()
    expect(classifyApp(null)).toBeUndefined()
    expect(classifyApp({ port: 3000 })).toBeUndefined()
    expect(classifyApp((_req: unknown) => {})).toBeUndefined() // arity 1: neither handler nor factory
    expect(classifyApp(KoaLike)).toBeUndefined() // a class must be instantiated by the user
  })
})

describe('resolveHandler', () => {
  it('serves a real Express app exported as default (how import() exposes CJS module.exports)', async () => {
    const resolved = await resolveHandler({ default: expressApp() }, MODULE)
    expect(resolved.kind).toBe('handler')
    if (resolved.kind !== 'handler') return
    expect(JSON.parse(await serve(resolved.handler, '/hello'))).toEqual({ hello: 'express' })
  })

  it('serves a plain (req, res) function', async () => {
    const resolved = await resolveHandler({ default: (_req: IncomingMessage, res: ServerResponse) => res.end('plain') }, MODULE)
    expect(resolved.kind === 'handler' && (await serve(resolved.handler))).toBe('plain')
  })

  it('uses callback() of a Koa-like app', async () => {
    const resolved = await resolveHandler({ app: new KoaLike() }, MODULE)
    expect(resolved.shape).toBe('koa')
    expect(resolved.kind === 'handler' && (await serve(resolved.handler))).toBe('koa')
  })

  it('awaits ready() of a Fastify-like app, then routes through routing()', async () => {
    const resolved = await resolveHandler({ default: new FastifyLike() }, MODULE)
    expect(resolved.shape).toBe('fastify')
    expect(resolved.kind === 'handler' && (await serve(resolved.handler))).toBe('fastify ready')
  })

  it('returns an unstarted http.Server as a server to listen on', async () => {
    const server = createServer((_req, res) => res.end('server'))
    const resolved = await resolveHandler({ handler: server }, MODULE)
    expect(resolved).toEqual({ kind: 'server', server, shape: 'server' })
  })

  it('calls a zero-argument (async) factory once and resolves its result', async () => {
    let calls = 0
    const resolved = await resolveHandler(
      {
        default: async () => {
          calls++
          return expressApp()
        },
      },
      MODULE,
    )
    expect(calls).toBe(1)
    expect(resolved.kind === 'handler' && JSON.parse(await serve(resolved.handler, '/hello'))).toEqual({ hello: 'express' })
  })

  it('tries default, app, handler in order and skips non-app exports', async () => {
    const handler = (_req: IncomingMessage, res: ServerResponse): void => void res.end('handler export')
    const resolved = await resolveHandler({ default: { config: true }, handler }, MODULE)
    expect(resolved.kind === 'handler' && resolved.handler).toBe(handler)
  })

  it('finds default.app for CommonJS module.exports = { app } when named exports are not detected', () => {
    const app = expressApp()
    expect(pickExport({ default: { app } }, MODULE)).toMatchObject({ name: 'default.app', value: app, shape: 'handler' })
  })

  it('honours an explicit export name and only tries that one', async () => {
    const koa = new KoaLike()
    expect(pickExport({ default: expressApp(), server: koa }, MODULE, 'server')).toMatchObject({ name: 'server', value: koa })
    const error = await resolveError(resolveHandler({ default: expressApp() }, MODULE, 'missing'))
    expect(error.message).toContain(`${MODULE} does not export a servable app`)
    expect(error.message).toContain('tried export "missing", "default.missing"')
    expect(error.message).toContain('missing: not exported')
    expect(error.message).not.toContain('SERVER_COVERAGE_APP_EXPORT')
  })

  it('names the module, the exports tried and what was found', async () => {
    const error = await resolveError(resolveHandler({ default: 42, other: 'x' }, MODULE))
    expect(error.message).toContain(`${MODULE} does not export a servable app`)
    expect(error.message).toContain('tried export "default", "app", "handler", "default.app", "default.handler"')
    expect(error.message).toContain('module exports: default, other')
    expect(error.message).toContain('default: number (42)')
    expect(error.message).toContain('app: not exported')
    expect(error.message).toContain('Set SERVER_COVERAGE_APP_EXPORT')
  })

  it('describes objects and arity-1 functions it cannot serve', async () => {
    const object = await resolveError(resolveHandler({ default: { port: 3000, routes: [] } }, MODULE))
    expect(object.message).toContain('default: object (Object) with keys {port, routes}')
    const unary = await resolveError(resolveHandler({ default: function serve(_req: unknown) {} }, MODULE))
    expect(unary.message).toContain('default: function serve of arity 1')
  })

  it('reports a factory that throws, with a hint about handler parameters', async () => {
    const error = await resolveError(
      resolveHandler(
        {
          default: () => {
            throw new Error('db down')
          },
        },
        MODULE,
      ),
    )
    expect(error.message).toContain(`export "default" of ${MODULE} was called as a zero-argument factory and threw: db down`)
    expect(error.message).toContain('declare its (req, res) parameters')
    expect(error.cause).toBeInstanceOf(Error)
  })

  it('reports a factory whose result is not an app, and refuses factories of factories', async () => {
    const bad = await resolveError(resolveHandler({ default: async () => 42 }, MODULE))
    expect(bad.message).toContain(`export "default" of ${MODULE} (factory result) is number (42)`)
    const nested = await resolveError(resolveHandler({ default: () => () => expressApp() }, MODULE))
    expect(nested.message).toContain('returned another zero-argument function')
  })

  it('refuses an http.Server that is already listening', async () => {
    const server = createServer()
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const error = await resolveError(resolveApp(server, 'export "default" of /abs/app.mjs'))
    expect(error.message).toContain('already listening')
  })
})

describe('describeValue', () => {
  it('gives typeof plus useful detail', () => {
    expect(describeValue(undefined)).toBe('undefined (undefined)')
    expect(describeValue(null)).toBe('null')
    expect(describeValue('x')).toBe('string "x"')
    expect(describeValue(Object.create(null))).toBe('object (null-prototype) with keys {}')
    expect(describeValue(function named(_a: unknown) {})).toBe('function named of arity 1')
  })
})
