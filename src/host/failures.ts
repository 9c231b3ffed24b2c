import type { ListenAddress } from './listen-watch.js'
import type { HostFailureCode } from './protocol.js'
import { AppResolveError } from './resolve-handler.js'

/**
 * The host's user-facing failure texts. The launcher turns each into ONE `ServerCoverageError`
 * (code, text, then the tail of the server's output), so they start lower-case, name the `app`
 * option, and say what to do.
 */

export interface HostFailure {
  code: HostFailureCode
  message: string
}

/** How many stack lines of an import error to keep: the throw site and its callers, not the loader internals. */
const STACK_LINES = 8

/** "the `app` module src/app.js": how every message names the module. */
export const moduleLabel = (relativePath: string): string => `the \`app\` module ${relativePath}`

/** The module could not be loaded or resolved to an app (threw on import, bad export, factory threw). */
export function loadFailure(label: string, error: unknown): HostFailure {
  if (error instanceof AppResolveError) return { code: 'APP_INVALID', message: error.message }
  const stack = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error)
  const lines = stack.split('\n')
  const shown = lines.slice(0, STACK_LINES).join('\n') + (lines.length > STACK_LINES ? '\n    …' : '')
  return { code: 'APP_INVALID', message: `${label} threw while loading: ${shown}` }
}

/** TypeScript with no way to load it (no tsx, old Node). */
export function typeScriptFailure(label: string, error: unknown): HostFailure {
  return { code: 'APP_INVALID', message: `${label} ${error instanceof Error ? error.message : String(error)}.` }
}

const list = (items: string[]): string => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`)

/** The module started its own server while loading: the start guard to add depends on its format. */
export function listensByItselfFailure(label: string, listened: readonly ListenAddress[], esModule: boolean, ourPort: number): HostFailure {
  const where = [...new Set(listened.map((address) => (typeof address === 'string' ? `${address}` : address === undefined ? 'an unknown port' : `port ${address}`)))]
  const isOurs = listened.includes(ourPort) ? ` (the PORT it was given, ${ourPort})` : ''
  const guard =
    esModule
      ? "`if (import.meta.url === pathToFileURL(process.argv[1]).href) { app.listen(…) }` (with `import { pathToFileURL } from 'node:url'`)"
      : '`if (require.main === module) { app.listen(…) }`'
  return {
    code: 'APP_INVALID',
    message:
      `${label} started listening on ${list(where)}${isOurs} by itself while it was loading. ` +
      'server-coverage hosts the app and listens for it, so the module must export the app without listening: ' +
      `guard the listen call so it runs only when the file is started directly, ${guard}, or move it to another file.`,
  }
}

/** A worker died before it was listening, without telling why (a crash, process.exit in the app…). */
export function workerExitFailure(label: string, pid: number | undefined, code: number | null, signal: string | null, wasListening: boolean): HostFailure {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
  const when = wasListening ? 'before every worker was listening' : 'before it was listening'
  return { code: 'SERVER_EXITED', message: `a worker (pid ${pid ?? '?'}) of ${label} ${how} ${when}; see its output below.` }
}

/** Our own listen failed. */
export function listenFailure(host: string, port: number, error: NodeJS.ErrnoException): HostFailure {
  if (error.code === 'EADDRINUSE') {
    return { code: 'PORT_IN_USE', message: `port ${port} on ${host} is already in use, so the app host cannot listen on it. Stop whatever listens there, or remove the \`port\` option to get a free port.` }
  }
  return { code: 'SERVER_EXITED', message: `the app host cannot listen on ${host}:${port}: ${error.code ?? error.message}.` }
}
