import { Server } from 'node:net'

/**
 * Notices servers an app starts by itself while it loads (a start guard that did not hold, or no
 * guard at all: `app.listen(3000)` at the top of the module). Inside a cluster worker such a
 * `listen()` does not fail — the primary binds the port for it — so without this the user would
 * read about a port conflict, or nothing at all, instead of "your module listens by itself".
 *
 * Node has no public hook for "a server started listening" (the `net.server.listen` tracing
 * channel is Node 22+), so `net.Server.prototype.listen` — which http, https, Express, Koa and
 * Fastify servers all reach — is wrapped for the duration of the load only, recording each call
 * and then calling the original unchanged.
 */

/** Where a load-time server listens: a port, a pipe path, or undefined when it could not be told. */
export type ListenAddress = number | string | undefined

interface ListenCall {
  server: Server
  args: unknown[]
}

/** The port or path a `listen(...)` call asked for, from its arguments. */
export function requestedAddress(args: readonly unknown[]): ListenAddress {
  const [first] = args
  if (typeof first === 'number') return first
  if (typeof first === 'string') return /^\d+$/.test(first) ? Number(first) : first
  if (typeof first === 'object' && first !== null) {
    const { port, path } = first as { port?: unknown; path?: unknown }
    if (typeof port === 'number' || (typeof port === 'string' && /^\d+$/.test(port))) return Number(port)
    if (typeof path === 'string') return path
  }
  return undefined
}

/** Waits until a server that was asked to listen did so (its real port), failed, or closed. */
function settledAddress(call: ListenCall): Promise<ListenAddress> {
  const read = (): ListenAddress => {
    const address = call.server.address()
    return typeof address === 'string' ? address : (address?.port ?? requestedAddress(call.args))
  }
  if (call.server.listening) return Promise.resolve(read())
  return new Promise((resolve) => {
    const done = (): void => {
      call.server.off('listening', done).off('error', done).off('close', done)
      resolve(read())
    }
    call.server.once('listening', done).once('error', done).once('close', done)
  })
}

/**
 * Runs `load` and returns its value with the addresses of every server that started listening
 * meanwhile (each awaited until it listened or failed, so the port is the one it really took).
 */
export async function watchListens<T>(load: () => Promise<T>): Promise<{ value: T; listened: ListenAddress[] }> {
  const calls: ListenCall[] = []
  let watching = true
  const original = Server.prototype.listen
  // Typed loosely on purpose: `listen` has many overloads and this wrapper forwards all of them.
  const wrapped = function (this: Server, ...args: unknown[]): Server {
    if (watching) calls.push({ server: this, args })
    return (original as (...args: unknown[]) => Server).apply(this, args)
  }
  Server.prototype.listen = wrapped as typeof Server.prototype.listen
  let value: T
  try {
    value = await load()
  } finally {
    watching = false
    // Only restore our own wrapper: something loaded meanwhile may have wrapped it again (ours
    // then stays in the chain, recording nothing).
    if (Server.prototype.listen === (wrapped as unknown)) Server.prototype.listen = original
  }
  return { value, listened: await Promise.all(calls.map(settledAddress)) }
}
