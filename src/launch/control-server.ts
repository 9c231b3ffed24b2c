import type { Socket } from 'node:net'
import type { PayloadDirs, PayloadInfo } from '../network/payloads.js'
import { createServer } from 'node:net'
import { tokenMatches } from '../network/address.js'
import { PayloadAssembler } from '../network/payloads.js'

/** One server process (or worker thread) that registered through the agent. */
export interface AgentProcess {
  pid: number
  ppid: number
  threadId: number
  /** `process.argv[1..2]` of the process, for messages. */
  argv: string[]
  /** False once its socket closed (the process or thread exited). */
  connected: boolean
  /** When its last flush wrote (ms since epoch, the process's clock), 0 if never. */
  lastFlushAt: number
  /** When its socket closed (ms since epoch), 0 while connected. */
  disconnectedAt: number
}

/** What one flush round achieved. */
export interface FlushResult {
  /** Processes that wrote a coverage file and acknowledged it. */
  flushed: AgentProcess[]
  /** Processes that did not answer within the flush timeout (busy or stuck). */
  unanswered: AgentProcess[]
  /** Processes whose `takeCoverage` threw, with the error. */
  failed: { process: AgentProcess; error: string }[]
}

interface Peer {
  socket: Socket
  info: AgentProcess
  buffered: string
  /** Network agents only: where their payloads are assembled. */
  payloads?: PayloadAssembler
  /** Where it connects from (network agents), for messages. */
  remote?: string
}

/** How network agents (servers we did not start) reach the collector. */
export interface NetworkOptions {
  host: string
  port: number
  /** The shared secret every agent must present in its `hello` (compared in constant time, never printed). */
  token: string
  dirs: PayloadDirs
  /** Hashes of the agents' files, for path mapping. */
  onHashes?: (hashes: Record<string, string>) => void
  log: (line: string) => void
}

/** Longest line a network peer may send before it is cut off (chunks are ~64 KB). */
const MAX_NETWORK_LINE = 4 * 1024 * 1024

/**
 * The collector's end of the agents' control channel: a Unix socket server that tracks every
 * registered process and runs flush rounds in which each live process acknowledges its write.
 */
export class ControlServer {
  /** The Unix socket path, or `host:port` for network agents. */
  readonly socketPath: string
  readonly #network: NetworkOptions | undefined
  #peerCount = 0
  readonly #peers = new Set<Peer>()
  readonly #all: AgentProcess[] = []
  readonly #server = createServer((socket) => this.#accept(socket))
  readonly #onRegister = new Set<() => void>()
  readonly #pendingFlushes = new Map<number, Map<Peer, (error?: string, at?: number) => void>>()
  #nextFlushId = 1

  /** A Unix socket for the agents of servers we start, or TCP (`network`) for agents anywhere. */
  constructor(socketPath: string, network?: NetworkOptions) {
    this.socketPath = network ? `${network.host}:${network.port}` : socketPath
    this.#network = network
  }

  /** Starts listening. The server is unref'd: it never keeps the runner alive. */
  async listen(): Promise<void> {
    const network = this.#network
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      const done = (): void => {
        this.#server.off('error', reject)
        resolve()
      }
      if (network) this.#server.listen(network.port, network.host, done)
      else this.#server.listen(this.socketPath, done)
    })
    this.#server.unref()
  }

  /** The TCP port network agents connect to (the one asked for, or the one given for port 0). */
  get port(): number | undefined {
    const address = this.#server.address()
    return typeof address === 'object' && address ? address.port : undefined
  }

  /** Every process that ever registered, live or gone. */
  get processes(): readonly AgentProcess[] {
    return this.#all
  }

  /** Resolves once `count` processes are connected, or after `timeoutMs` (never rejects). */
  waitForRegistrations(count: number, timeoutMs: number): Promise<void> {
    if (this.#peers.size >= count) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#onRegister.delete(check)
        resolve()
      }
      const check = (): void => void (this.#peers.size >= count && done())
      const timer = setTimeout(done, timeoutMs)
      this.#onRegister.add(check)
    })
  }

  /** Processes whose control connection is still open. */
  get live(): AgentProcess[] {
    return [...this.#peers].map((peer) => peer.info)
  }

  #accept(socket: Socket): void {
    socket.setEncoding('utf8')
    socket.unref()
    const peer: Peer = { socket, buffered: '', info: { pid: 0, ppid: 0, threadId: 0, argv: [], connected: true, lastFlushAt: 0, disconnectedAt: 0 } }
    if (this.#network) peer.remote = `${socket.remoteAddress}:${socket.remotePort}`
    socket.on('data', (chunk: string) => {
      peer.buffered += chunk
      if (this.#network && peer.buffered.length > MAX_NETWORK_LINE) {
        this.#network.log(`dropped the network agent at ${peer.remote}: it sent a line over ${MAX_NETWORK_LINE / 1024 / 1024} MB (not a server-coverage agent?)`)
        socket.destroy()
        return
      }
      let newline = peer.buffered.indexOf('\n')
      while (newline !== -1) {
        this.#onMessage(peer, peer.buffered.slice(0, newline))
        peer.buffered = peer.buffered.slice(newline + 1)
        newline = peer.buffered.indexOf('\n')
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      peer.info.connected = false
      peer.info.disconnectedAt = Date.now()
      this.#peers.delete(peer)
      if (peer.payloads?.abort()) {
        this.#network?.log(`the network agent of process ${peer.info.pid} at ${peer.remote} disconnected in the middle of sending its coverage: that payload is lost, everything it sent before is kept`)
      }
      // A process that exits during a flush has written its final file at exit: count it done.
      for (const waiting of this.#pendingFlushes.values()) waiting.get(peer)?.()
    })
  }

  #onMessage(peer: Peer, line: string): void {
    let message: { t?: string; id?: number; error?: string; at?: number; pid?: number; ppid?: number; threadId?: number; argv?: string[]; token?: unknown; data?: unknown; payload?: PayloadInfo }
    try {
      message = JSON.parse(line) as typeof message
    } catch {
      if (this.#network && !this.#peers.has(peer)) peer.socket.destroy()
      return
    }
    if (message === null || typeof message !== 'object') return
    const network = this.#network
    if (network && !this.#peers.has(peer)) {
      // Nothing but a `hello` with the right token is accepted from a network peer.
      if (message.t !== 'hello' || !tokenMatches(message.token, network.token)) {
        network.log(`refused a network agent from ${peer.remote}: ${message.t === 'hello' ? (message.token === undefined ? 'no token' : 'wrong token') : 'it did not say hello first'} (set SERVER_COVERAGE_TOKEN in the server's environment to the collector's token)`)
        peer.socket.destroy()
        return
      }
      peer.payloads = new PayloadAssembler(network.dirs, ++this.#peerCount)
    }
    if (message.t === 'chunk' && peer.payloads && typeof message.id === 'number' && typeof message.data === 'string') {
      peer.payloads.chunk(message.id, message.data)
      return
    }
    if (message.t === 'flushed' && peer.payloads && typeof message.id === 'number' && message.payload && !message.error) {
      void this.#completePayload(peer, message.id, message.payload, message.at)
      return
    }
    if (message.t === 'hello') {
      peer.info.pid = Number(message.pid)
      peer.info.ppid = Number(message.ppid)
      peer.info.threadId = Number(message.threadId)
      peer.info.argv = Array.isArray(message.argv) ? message.argv.map(String) : []
      this.#peers.add(peer)
      this.#all.push(peer.info)
      peer.socket.write('{"t":"welcome"}\n')
      for (const listener of [...this.#onRegister]) listener()
      if (this.#network) {
        const host = typeof (message as { host?: unknown }).host === 'string' ? ` on ${(message as { host: string }).host}` : ''
        this.#network.log(`network agent of process ${peer.info.pid} (${peer.info.argv.join(' ')})${host} from ${peer.remote} registered (${this.#peers.size} connected)`)
      }
    } else if (message.t === 'flushed' && typeof message.id === 'number') {
      this.#pendingFlushes.get(message.id)?.get(peer)?.(message.error, typeof message.at === 'number' ? message.at : undefined)
    }
  }

  /** A network agent finished a flush's payload: the flush counts as answered once the file is in place. */
  async #completePayload(peer: Peer, id: number, payload: PayloadInfo, at: number | undefined): Promise<void> {
    const network = this.#network!
    const valid = (payload.format === 'v8' || payload.format === 'istanbul') && Number.isSafeInteger(payload.bytes)
    const result = valid ? await peer.payloads!.complete(id, payload) : { dropped: 'not a valid payload description' }
    if ('dropped' in result) {
      if (result.dropped !== 'empty') network.log(`dropped a coverage payload of process ${peer.info.pid} at ${peer.remote}: ${result.dropped}`)
      this.#pendingFlushes.get(id)?.get(peer)?.(result.dropped === 'empty' ? undefined : `its payload was dropped (${result.dropped})`, at)
      return
    }
    if (payload.hashes && typeof payload.hashes === 'object') network.onHashes?.(payload.hashes)
    this.#pendingFlushes.get(id)?.get(peer)?.(undefined, at)
  }

  /**
   * Asks every live process to write its coverage and waits for each acknowledgement, a process
   * exit, or `timeoutMs`. When this resolves, every file of a `flushed` process is complete on disk.
   */
  async flush(timeoutMs: number): Promise<FlushResult> {
    const id = this.#nextFlushId++
    const waiting = new Map<Peer, (error?: string, at?: number) => void>()
    this.#pendingFlushes.set(id, waiting)
    const result: FlushResult = { flushed: [], unanswered: [], failed: [] }
    const peers = [...this.#peers]
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    })
    const answers = peers.map(
      (peer) =>
        new Promise<void>((resolve) => {
          waiting.set(peer, (error, at) => {
            waiting.delete(peer)
            if (error) result.failed.push({ process: peer.info, error })
            else {
              if (at) peer.info.lastFlushAt = at
              result.flushed.push(peer.info)
            }
            resolve()
          })
          peer.socket.write(`${JSON.stringify({ t: 'flush', id })}\n`)
        }),
    )
    await Promise.race([Promise.all(answers), timeout])
    clearTimeout(timer)
    this.#pendingFlushes.delete(id)
    for (const peer of waiting.keys()) result.unanswered.push(peer.info)
    return result
  }

  /** Tells every agent the collector is leaving on purpose, so they do not stop as orphans. */
  sayGoodbye(): void {
    for (const peer of this.#peers) peer.socket.write('{"t":"bye"}\n')
  }

  /** Closes the listening socket and every connection. */
  async close(): Promise<void> {
    for (const peer of this.#peers) peer.socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
