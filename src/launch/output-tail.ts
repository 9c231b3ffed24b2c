import type { Readable, Writable } from 'node:stream'

/** Keeps the last `maxBytes` of a server's output for error messages, optionally echoing it. */
export class OutputTail {
  readonly #maxBytes: number
  #text = ''

  constructor(maxBytes = 4096) {
    this.#maxBytes = maxBytes
  }

  /** Reads `stream` into the tail; when `echo` is set, also writes each line to it with a prefix. */
  attach(stream: Readable | null, echo: Writable | undefined, prefix: string): void {
    if (!stream) return
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      this.#text = (this.#text + chunk).slice(-this.#maxBytes)
      if (echo) echo.write(chunk.replace(/^(?=.)/gm, prefix))
    })
  }

  /** The last `lines` lines seen. */
  tail(lines = 20): string {
    return this.#text.split('\n').slice(-lines - 1).join('\n')
  }
}
