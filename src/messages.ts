/**
 * How the library speaks: every line and error starts with `server-coverage: ` exactly once (added
 * here and by `ServerCoverageError`, never written into a message), and a message that more than
 * one front end prints is worded here, once.
 */

export const PREFIX = 'server-coverage: '

/** Writes a progress line to stderr with the prefix. */
export function defaultLog(line: string): void {
  process.stderr.write(`${PREFIX}${line}\n`)
}

/** Adds the prefix unless the text already has it. */
export function withPrefix(text: string): string {
  return text.startsWith(PREFIX) ? text : PREFIX + text
}

/** `1 process`, `2 processes`, `0 files`. */
export function plural(count: number, word: string): string {
  if (count === 1) return `${count} ${word}`
  return `${count} ${/(s|sh|ch|x)$/.test(word) ? `${word}es` : `${word}s`}`
}

/**
 * Locations of one side that had no counterpart on the other when two coverage maps of the same
 * file were added: they are left out rather than counted twice. `against` names the side kept
 * (e.g. "Vitest's statement map", "the existing report").
 */
export function unmatchedMessage(file: string, count: number, against: string): string {
  return (
    `${file}: ${plural(count, 'covered location')} of the server did not line up with ${against} ` +
    '(the file was transformed differently on each side); left out rather than counted twice.'
  )
}
