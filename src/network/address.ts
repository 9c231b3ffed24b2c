import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ServerCoverageError } from '../errors.js'

/** A `host:port` to listen on or connect to (`[::1]:7171` for IPv6). */
export interface HostPort {
  host: string
  port: number
}

/** Parses `host:port`; `port` alone means loopback. Throws INVALID_OPTION naming `option`. */
export function parseHostPort(value: string, option: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value.trim()) ?? /^()()(\d+)$/.exec(value.trim())
  const port = Number(match?.[3])
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ServerCoverageError('INVALID_OPTION', `expected the \`${option}\` option as host:port (e.g. 127.0.0.1:7171), got \`${value}\`.`)
  }
  return { host: match[1] || match[2] || '127.0.0.1', port }
}

/**
 * The token network agents must present: `SERVER_COVERAGE_TOKEN`, else the first line of
 * `tokenFile`. Never printed. Throws INVALID_OPTION when there is none or it is too short.
 */
export function readToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  let token = env.SERVER_COVERAGE_TOKEN
  if (tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, 'utf8').split('\n')[0]?.trim()
    } catch (cause) {
      throw new ServerCoverageError('INVALID_OPTION', `cannot read the token file ${tokenFile} (the \`tokenFile\` option / --token-file): ${(cause as NodeJS.ErrnoException).code ?? cause}.`, { cause })
    }
  }
  if (!token || token.length < 16) {
    throw new ServerCoverageError(
      'INVALID_OPTION',
      'network agents need a shared secret of at least 16 characters: set SERVER_COVERAGE_TOKEN (the same value in the servers\' environment), or give --token-file.',
    )
  }
  return token
}

/** Compares a presented token with the expected one in constant time (whatever their lengths). */
export function tokenMatches(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string') return false
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}
