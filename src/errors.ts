import { withPrefix } from './messages.js'

/**
 * Stable codes a caller can branch on:
 * - `INVALID_OPTION`: an option (or config file) is wrong — fix the configuration;
 * - `COMMAND_NOT_FOUND`, `SERVER_EXITED`, `READY_TIMEOUT`, `PORT_IN_USE`: the server could not start;
 * - `APP_INVALID`: the `app` module cannot be hosted (does not export an app, listens by itself…);
 * - `COVERAGE_UNAVAILABLE`: the server runs but its coverage cannot be measured or read (Coverage.py
 *   missing, our hook not loaded, another Python version);
 * - `UNSUPPORTED`: the runner or its version offers no route for what was asked;
 * - `ATTACH_FAILED`: no running `serve` to attach to, or it refused us.
 */
export type ServerCoverageErrorCode =
  | 'INVALID_OPTION'
  | 'COMMAND_NOT_FOUND'
  | 'SERVER_EXITED'
  | 'READY_TIMEOUT'
  | 'PORT_IN_USE'
  | 'APP_INVALID'
  | 'COVERAGE_UNAVAILABLE'
  | 'UNSUPPORTED'
  | 'ATTACH_FAILED'

/**
 * The one error class of the library: a stable `code`, a message that says what happened and what
 * to do (prefixed `server-coverage: ` once, here), a `cause`.
 */
export class ServerCoverageError extends Error {
  readonly code: ServerCoverageErrorCode

  constructor(code: ServerCoverageErrorCode, message: string, options?: { cause?: unknown }) {
    super(withPrefix(message), options)
    this.name = 'ServerCoverageError'
    this.code = code
  }
}

/** Whether an error is a usage error (exit code 2 in the CLI): the configuration must change. */
export function isUsageError(error: unknown): boolean {
  return error instanceof ServerCoverageError && error.code === 'INVALID_OPTION'
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
