import type { CoverageSession } from './collect.js'
import type { ResolvedServerOptions } from './options.js'
import { AttachedSession } from './attach/client.js'
import { findServe } from './attach/discover.js'
import { defaultLog } from './messages.js'
import { ServerCoverageSession } from './session.js'

/** How every front end opens its session. */
export interface OpenOptions {
  /** Where `.server-coverage/serve.json` is looked for when attaching. */
  root: string
  /** When false the servers run without coverage (the runner's coverage is off). @default true */
  coverage?: boolean
  log?: (line: string) => void
}

/**
 * The one way a front end gets its servers: attached to a running `server-coverage serve` when the
 * options say `attach` or `SERVER_COVERAGE_ATTACH` is set, else started under coverage.
 */
export async function openSession(servers: ResolvedServerOptions[], options: OpenOptions): Promise<CoverageSession> {
  const log = options.log ?? defaultLog
  const attach = servers.find((server) => server.attach !== undefined)?.attach
  if (attach !== undefined || process.env.SERVER_COVERAGE_ATTACH) {
    const { address, from } = await findServe(options.root, typeof attach === 'string' ? attach : undefined)
    if (attach === undefined) log(`SERVER_COVERAGE_ATTACH is set: using the running serve instead of starting ${servers.map((server) => `"${server.name}"`).join(', ')}`)
    return AttachedSession.connect(address, { log, from })
  }
  return ServerCoverageSession.start({ servers, coverage: options.coverage ?? true, log })
}
