import type { WriteStream } from 'node:fs'
import { createWriteStream, mkdirSync } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { join } from 'node:path'

/** What a network agent says of a payload once it has sent all of it. */
export interface PayloadInfo {
  format: 'v8' | 'istanbul'
  bytes: number
  /** sha1 of each reported file's content on the agent's machine, by its path there (for path mapping). */
  hashes?: Record<string, string>
}

/** Where complete payloads land: V8 files where the Node reader reads them, istanbul files apart. */
export interface PayloadDirs {
  incoming: string
  v8: string
  istanbul: string
}

/** A payload being received: its `.part` file, bytes so far, and why it will be dropped, if it will. */
interface Payload {
  id: number
  stream: WriteStream
  path: string
  bytes: number
  failed?: string
}

/** Largest payload accepted from one agent for one flush. */
export const MAX_PAYLOAD_BYTES = 512 * 1024 * 1024

/**
 * Assembles the payloads of one network agent: each flush's coverage arrives as chunks, written
 * to a `.part` file as they come (never held whole in memory) and moved to its final name only
 * once the agent says it sent everything and the size matches. A payload cut short (the agent
 * disconnected, or it grew past the limit) is deleted: only that payload is lost.
 */
export class PayloadAssembler {
  readonly #dirs: PayloadDirs
  readonly #peer: number
  readonly #maxBytes: number
  #current: Payload | undefined
  #count = 0

  constructor(dirs: PayloadDirs, peer: number, maxBytes = MAX_PAYLOAD_BYTES) {
    this.#dirs = dirs
    this.#peer = peer
    this.#maxBytes = maxBytes
    mkdirSync(dirs.incoming, { recursive: true, mode: 0o700 })
  }

  /** Adds a chunk of flush `id`'s payload. */
  chunk(id: number, data: string): void {
    if (!this.#current || this.#current.id !== id) {
      this.#discard()
      const path = join(this.#dirs.incoming, `${this.#peer}-${id}.part`)
      const stream = createWriteStream(path, { mode: 0o600 })
      const current: Payload = { id, path, bytes: 0, stream }
      // A write that fails (disk full) or lands after an abort must never crash the collector.
      stream.on('error', (error: Error) => void (current.failed ??= `could not be written (${error.message})`))
      this.#current = current
    }
    const current = this.#current
    if (current.failed) return
    current.bytes += Buffer.byteLength(data)
    if (current.bytes > this.#maxBytes) {
      current.failed = `larger than ${Math.round(this.#maxBytes / 1024 / 1024)} MB`
      return
    }
    current.stream.write(data)
  }

  /**
   * The agent sent all of flush `id`. Resolves with the final file, or with the reason the
   * payload was dropped.
   */
  async complete(id: number, info: PayloadInfo): Promise<{ file: string } | { dropped: string }> {
    const current = this.#current?.id === id ? this.#current : undefined
    this.#current = undefined
    if (!current) return info.bytes === 0 ? { dropped: 'empty' } : { dropped: 'no data arrived' }
    await new Promise<void>((resolve) => current.stream.end(resolve))
    const reason = current.failed ?? (current.bytes !== info.bytes ? `${current.bytes} of ${info.bytes} bytes arrived` : undefined)
    if (reason) {
      await rm(current.path, { force: true })
      return { dropped: reason }
    }
    this.#count += 1
    const file =
      info.format === 'v8'
        ? join(this.#dirs.v8, `coverage-${this.#peer}-${this.#count}-0.json`)
        : join(this.#dirs.istanbul, `${this.#peer}-${this.#count}.json`)
    await rename(current.path, file)
    return { file }
  }

  /** The connection closed: a payload in the middle is lost. Returns whether one was. */
  abort(): boolean {
    const lost = this.#current !== undefined
    this.#discard()
    return lost
  }

  #discard(): void {
    const current = this.#current
    this.#current = undefined
    if (!current) return
    current.stream.destroy()
    void rm(current.path, { force: true })
  }
}
