/** Stable codes a caller can branch on. */
export type ServerCoverageErrorCode =
  | 'INVALID_OPTION'
  | 'COMMAND_NOT_FOUND'
  | 'SERVER_EXITED'
  | 'READY_TIMEOUT'
  | 'PORT_IN_USE'
  | 'APP_NOT_FOUND'

/** The one error class of the library: a stable `code`, a message that says what to do, a `cause`. */
export class ServerCoverageError extends Error {
  readonly code: ServerCoverageErrorCode

  constructor(code: ServerCoverageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ServerCoverageError'
    this.code = code
  }
}

/** Formats the tail of a server's output for the end of an error message. */
export function formatOutputTail(tail: string): string {
  const trimmed = tail.trimEnd()
  if (!trimmed) return '\n(the server printed nothing to stderr/stdout)'
  return `\nLast server output:\n${trimmed
    .split('\n')
    .map((line) => `  | ${line}`)
    .join('\n')}`
}
