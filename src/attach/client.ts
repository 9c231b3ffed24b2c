import type { Socket } from 'node:net'
import type { Collected, CollectOptions, CoverageSession, ReadOptions, SessionRead } from '../collect.js'
import type { WireMessage } from './wire.js'
import { connect } from 'node:net'
import { convertRead } from '../collect.js'
import { ServerCoverageError } from '../errors.js'
import { defaultLog } from '../messages.js'
import { onMessages, send } from './wire.js'

/**
 * A session attached to a running `server-coverage serve`: the tests run against its servers,
 * each read returns what they ran since this session's previous read (since the attach at
 * first), and `stop` detaches, leaving the servers running. The raw coverage crosses the socket
 * and is converted here, with the runner's own parser and filter, exactly as for servers the
 * runner started itself.
 */
export class AttachedSession implements CoverageSession {
  readonly #socket: Socket
  readonly #pending = new Map<number, { resolve: (message: WireMessage) => void; reject: (error: Error) => void }>()
  readonly #log: (line: string) => void
  readonly #address: string
  #nextId = 1
  #urls: Record<string, string> = {}
  #coverage = false
  #closed = false
  #detached = false

  private constructor(socket: Socket, address: string, log: (line: string) => void) {
    this.#socket = socket
    this.#address = address
    this.#log = log
    onMessages(socket, (message) => {
      const waiting = message.id === undefined ? undefined : this.#pending.get(message.id)
      if (!waiting) return
      this.#pending.delete(message.id!)
      if (this.#pending.size === 0) socket.unref()
      if (message.t === 'error') waiting.reject(new ServerCoverageError('ATTACH_FAILED', `the serve at ${address} answered: ${String(message.message)}`))
      else waiting.resolve(message)
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      this.#closed = true
      for (const waiting of this.#pending.values()) {
        waiting.reject(new ServerCoverageError('ATTACH_FAILED', `the serve at ${address} went away (was it stopped?)`))
      }
      this.#pending.clear()
    })
  }

  /** Connects to the serve at `address` (its attach socket) and attaches. */
  static async connect(address: string, options: { log?: (line: string) => void; from?: string } = {}): Promise<AttachedSession> {
    const log = options.log ?? defaultLog
    const socket = await new Promise<Socket>((resolve, reject) => {
      const socket = connect(address)
      socket.once('connect', () => resolve(socket))
      socket.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new ServerCoverageError(
            'ATTACH_FAILED',
            `cannot attach to the serve at ${address}${options.from ? ` (from ${options.from})` : ''}: ${error.code ?? error.message}. ` +
              'Is `server-coverage serve` still running? Start it again, or unset SERVER_COVERAGE_ATTACH.',
            { cause: error },
          ),
        ),
      )
    })
    socket.unref()
    const session = new AttachedSession(socket, address, log)
    const attached = await session.#request({ t: 'attach' })
    session.#urls = (attached.urls as Record<string, string>) ?? {}
    session.#coverage = attached.coverage === true
    log(`attached to the serve at ${address}: ${Object.entries(session.#urls).map(([name, url]) => `${name} ${url}`).join(', ')}${session.#coverage ? '' : ' (coverage off)'}`)
    return session
  }

  #request(message: WireMessage): Promise<WireMessage> {
    if (this.#closed) return Promise.reject(new ServerCoverageError('ATTACH_FAILED', `the serve at ${this.#address} went away (was it stopped?)`))
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      // Keep the process alive only while an answer is awaited: an idle attachment never holds a runner open.
      this.#socket.ref()
      send(this.#socket, { ...message, id })
    })
  }

  get urls(): Record<string, string> {
    return this.#urls
  }

  async checkpoint(): Promise<void> {
    if (!this.#coverage || this.#closed) return
    await this.#request({ t: 'checkpoint' }).catch(() => undefined)
  }

  /** What the serve's servers ran since this session's previous read. The runner's filter applies at conversion. */
  async read(_options: ReadOptions = {}): Promise<SessionRead> {
    if (!this.#coverage) return { servers: [], processes: 0, files: 0, unanswered: 0 }
    return (await this.#request({ t: 'read' })).read as SessionRead
  }

  async collect(options: CollectOptions = {}): Promise<Collected> {
    const startedAt = Date.now()
    return convertRead(await this.read(options), options, startedAt, this.#log)
  }

  /** Detaches (the servers keep running); with `collect`, first reads what ran since the previous read. */
  async stop(options: CollectOptions & { collect?: boolean } = {}): Promise<Collected | undefined> {
    if (this.#detached) return undefined
    try {
      return options.collect && this.#coverage ? await this.collect(options) : undefined
    } finally {
      this.#detached = true
      await this.#request({ t: 'detach' }).catch(() => undefined)
      this.#socket.end()
      this.#log(`detached from the serve at ${this.#address}; the servers keep running`)
    }
  }

  /** The serve's whole coverage so far (`snapshot`). */
  async snapshot(): Promise<SessionRead> {
    return (await this.#request({ t: 'snapshot' })).read as SessionRead
  }

  /** Stops the serve and returns everything its servers ran (`stop`). */
  async stopServe(): Promise<SessionRead> {
    const read = (await this.#request({ t: 'stop' })).read as SessionRead
    this.#detached = true
    this.#socket.end()
    return read
  }
}
