import type { Socket } from 'node:net'
import { createServer } from 'node:net'

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
}

/**
 * The collector's end of the agents' control channel: a Unix socket server that tracks every
 * registered process and runs flush rounds in which each live process acknowledges its write.
 */
export class ControlServer {
  readonly socketPath: string
  readonly #peers = new Set<Peer>()
  readonly #all: AgentProcess[] = []
  readonly #server = createServer((socket) => this.#accept(socket))
  readonly #pendingFlushes = new Map<number, Map<Peer, (error?: string, at?: number) => void>>()
  #nextFlushId = 1

  constructor(socketPath: string) {
    this.socketPath = socketPath
  }

  /** Starts listening. The server is unref'd: it never keeps the runner alive. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.socketPath, () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    this.#server.unref()
  }

  /** Every process that ever registered, live or gone. */
  get processes(): readonly AgentProcess[] {
    return this.#all
  }

  /** Processes whose control connection is still open. */
  get live(): AgentProcess[] {
    return [...this.#peers].map((peer) => peer.info)
  }

  #accept(socket: Socket): void {
    socket.setEncoding('utf8')
    socket.unref()
    const peer: Peer = { socket, buffered: '', info: { pid: 0, ppid: 0, threadId: 0, argv: [], connected: true, lastFlushAt: 0, disconnectedAt: 0 } }
    socket.on('data', (chunk: string) => {
      peer.buffered += chunk
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
      // A process that exits during a flush has written its final file at exit: count it done.
      for (const waiting of this.#pendingFlushes.values()) waiting.get(peer)?.()
    })
  }

  #onMessage(peer: Peer, line: string): void {
    let message: { t?: string; id?: number; error?: string; at?: number; pid?: number; ppid?: number; threadId?: number; argv?: string[] }
    try {
      message = JSON.parse(line) as typeof message
    } catch {
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
    } else if (message.t === 'flushed' && typeof message.id === 'number') {
      this.#pendingFlushes.get(message.id)?.get(peer)?.(message.error, typeof message.at === 'number' ? message.at : undefined)
    }
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
