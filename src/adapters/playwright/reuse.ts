import type { PlannedServer } from './web-server.js'
import { probeHttp, probePort } from '../../launch/ready.js'

/**
 * `reuseExistingServer`: whether a server already answers where this entry's would, as Playwright
 * checks before starting one. Such a server is used as it is.
 *
 * This is the seam for attaching to a server that runs under `server-coverage serve` (servers we
 * did not start): when that lands, `attachCoverage` asks it over its control socket and returns a
 * handle the session collects from; until then its coverage cannot be measured.
 */
export async function isAlreadyServing(server: PlannedServer): Promise<boolean> {
  return 'url' in server.probe ? probeHttp(server.probe.url) : probePort(server.probe.port)
}

/** What a reused server's coverage needs: nothing can be attached yet, so the caller says so once. */
export function reusedServerMessage(server: PlannedServer): string {
  const where = 'url' in server.probe ? server.probe.url : `port ${server.probe.port}`
  return (
    `${server.options.name ?? 'server'}: a server already answers at ${where} (\`reuseExistingServer\`): using it; ` +
    'its coverage cannot be measured (it was not started by server-coverage). Stop it to have it booted under coverage.'
  )
}
