import type { Socket } from 'node:net'
import type { SessionRead } from '../collect.js'
import type { ServerCoverageSession } from '../session.js'
import type { WireMessage } from './wire.js'
import { chmod } from 'node:fs/promises'
import { createServer } from 'node:net'
import { ReadAccumulator } from '../coverage/accumulate.js'
import { onMessages, send } from './wire.js'

/**
 * The serve's end of the attach protocol: a private Unix socket through which `snapshot`, `stop`
 * and runners that attach (Vitest, Jest, Playwright, `run --attach`) use the serve's session.
 *
 * V8 resets its counters on every flush, so every read of the session is a delta, and a delta can
 * be read only once. The host therefore reads on behalf of everyone and sums: `whole` holds
 * everything since the serve started (what `snapshot` and `stop` report: cumulative and exact,
 * however many snapshots were taken), and each attached client has its own sum since its previous
 * read (what a runner's report gets: the coverage since it attached, then since its last report).
 * Requests are handled one at a time, in order.
 */
export class AttachHost {
  readonly socketPath: string
  readonly #session: ServerCoverageSession
  readonly #whole = new ReadAccumulator()
  readonly #clients = new Map<Socket, ReadAccumulator>()
  readonly #sockets = new Set<Socket>()
  readonly #server = createServer((socket) => this.#accept(socket))
  #queue: Promise<unknown> = Promise.resolve()
  #stopping: Promise<SessionRead> | undefined
  readonly #onStop: (read: SessionRead) => void

  /** `onStop` receives the final cumulative read once a client asked the serve to stop. */
  constructor(session: ServerCoverageSession, socketPath: string, onStop: (read: SessionRead) => void) {
    this.#session = session
    this.socketPath = socketPath
    this.#onStop = onStop
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.socketPath, () => resolve())
    })
    await chmod(this.socketPath, 0o600)
  }

  /** Reads a delta from every server and adds it to every sum. */
  async #readRound(): Promise<void> {
    // Keep every file the runtimes can see: each client applies its own runner's filter.
    const delta = await this.#session.read({ filter: () => true })
    this.#whole.add(delta)
    for (const client of this.#clients.values()) client.add(delta)
  }

  /**
   * Flushes, stops the servers and returns everything since the serve started (idempotent: a
   * second call gets the same result). Used by `stop` and by the serve itself on Ctrl+C.
   */
  stop(): Promise<SessionRead> {
    this.#stopping ??= this.#enqueue(async () => {
      const last = await this.#session.stopAndRead()
      this.#whole.add(last)
      const read = this.#whole.peek()
      // After the requesting client got its answer (replies are sent in this same turn).
      setImmediate(() => this.#onStop(read))
      return read
    })
    return this.#stopping
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task)
    this.#queue = result.catch(() => undefined)
    return result
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => {
      this.#clients.delete(socket)
      this.#sockets.delete(socket)
    })
    onMessages(socket, (message) => {
      void this.#enqueue(() => this.#handle(socket, message)).catch((error: unknown) => {
        send(socket, { t: 'error', id: message.id, message: error instanceof Error ? error.message : String(error) })
      })
    })
  }

  async #handle(socket: Socket, message: WireMessage): Promise<void> {
    const reply = (fields: Record<string, unknown>): void => send(socket, { ...fields, t: (fields.t as string | undefined) ?? 'ok', id: message.id })
    if (this.#stopping && message.t !== 'detach') throw new Error('the serve is stopping')
    switch (message.t) {
      case 'attach':
        // Everything before the attach goes to the others, not to this client.
        if (this.#session.coverage) await this.#readRound()
        this.#clients.set(socket, new ReadAccumulator())
        return reply({ t: 'attached', urls: this.#session.urls, coverage: this.#session.coverage })
      case 'read': {
        const client = this.#clients.get(socket)
        if (!client) throw new Error('attach first')
        await this.#readRound()
        return reply({ t: 'read', read: client.take() })
      }
      case 'snapshot':
        await this.#readRound()
        return reply({ t: 'read', read: this.#whole.peek() })
      case 'checkpoint':
        await this.#session.checkpoint()
        return reply({})
      case 'stop': {
        // Reply from outside the queue: stop() itself is queued behind this request.
        void this.stop().then((read) => reply({ t: 'read', read }), (error: unknown) => reply({ t: 'error', message: String(error) }))
        return
      }
      case 'detach':
        this.#clients.delete(socket)
        return reply({})
      default:
        throw new Error(`unknown request "${message.t}"`)
    }
  }

  /** Stops listening and ends every connection (after what was written to it is sent). */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.end()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
