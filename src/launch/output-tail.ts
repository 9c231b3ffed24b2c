import type { Readable, Writable } from 'node:stream'

/** Longest block of lines recognised as repeated (a traceback). */
const MAX_BLOCK_LINES = 60

/**
 * Collapses a block of lines printed several times in a row into one copy and a note: N workers
 * failing the same way print the same traceback N times, and the one worth reading would
 * otherwise be pushed out of the tail by its copies.
 */
export function collapseRepeats(lines: readonly string[]): string[] {
  const out: string[] = []
  let i = 0
  while (i < lines.length) {
    let best: { size: number; times: number } | undefined
    for (let size = 1; size <= MAX_BLOCK_LINES && i + 2 * size <= lines.length; size++) {
      let times = 1
      while (i + (times + 1) * size <= lines.length && lines.slice(i + times * size, i + (times + 1) * size).every((line, k) => line === lines[i + k])) times++
      // Only blocks with some text count; the one covering most lines wins, the smallest on a tie.
      if (times > 1 && lines.slice(i, i + size).some((line) => line.trim()) && (!best || size * times > best.size * best.times)) best = { size, times }
    }
    if (!best) {
      out.push(lines[i]!)
      i++
      continue
    }
    out.push(...lines.slice(i, i + best.size))
    out.push(`(the ${best.size === 1 ? 'line' : `${best.size} lines`} above, ${best.times - 1} more time${best.times === 2 ? '' : 's'})`)
    i += best.size * best.times
  }
  return out
}

/** Keeps the last `maxBytes` of a server's output for error messages, optionally echoing it. */
export class OutputTail {
  readonly #maxBytes: number
  #text = ''

  constructor(maxBytes = 64 * 1024) {
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

  /** The last `lines` lines seen, repeated blocks shown once. */
  tail(lines = 30): string {
    return collapseRepeats(this.#text.split('\n')).slice(-lines - 1).join('\n')
  }
}
