import type { CoverageSession } from '../../collect.js'
import type { PlannedServer } from './web-server.js'
import { readFile } from 'node:fs/promises'
import { serveInfoFile } from '../../attach/discover.js'
import { startServerCoverage } from '../../index.js'
import { probeHttp, probePort } from '../../launch/ready.js'

// `reuseExistingServer`: a server already answering where an entry's would is used as it is, as
// Playwright does. If it runs under `server-coverage serve` (its `.server-coverage/serve.json` in
// the config's folder names a server on that port, or SERVER_COVERAGE_ATTACH is set), we attach
// to it and report what it runs from now on; otherwise its coverage cannot be measured.

/** Whether a server already answers at this entry's `url` (or port). */
export async function isAlreadyServing(server: PlannedServer): Promise<boolean> {
  return 'url' in server.probe ? probeHttp(server.probe.url) : probePort(server.probe.port)
}

function where(server: PlannedServer): string {
  return 'url' in server.probe ? server.probe.url : `port ${server.probe.port}`
}

function portOf(server: PlannedServer): string {
  return 'url' in server.probe ? new URL(server.probe.url).port : String(server.probe.port)
}

/** Whether the serve in `root` runs a server on the port of one of `reused` (any, with SERVER_COVERAGE_ATTACH). */
async function serveRuns(root: string, reused: readonly PlannedServer[]): Promise<boolean> {
  if (process.env.SERVER_COVERAGE_ATTACH) return true
  try {
    const info = JSON.parse(await readFile(serveInfoFile(root), 'utf8')) as { urls?: Record<string, string> }
    const ports = new Set(Object.values(info.urls ?? {}).map((url) => new URL(url).port))
    return reused.some((server) => ports.has(portOf(server)))
  } catch {
    return false
  }
}

/**
 * Uses servers that already answer: attached to the `server-coverage serve` running them when
 * there is one, else said once each. Never throws: a reused server is used either way.
 */
export async function attachReused(reused: readonly PlannedServer[], root: string, log: (line: string) => void): Promise<CoverageSession | undefined> {
  if (reused.length === 0) return undefined
  const names = reused.map((server) => `${server.options.name ?? 'server'} at ${where(server)}`).join(', ')
  if (await serveRuns(root, reused)) {
    try {
      const session = await startServerCoverage({ attach: true }, { root, log })
      log(`${names}: already running under \`server-coverage serve\` (\`reuseExistingServer\`): attached; what it runs from now on is reported`)
      return session
    } catch (error) {
      log(`${names}: could not attach to its \`server-coverage serve\` (${error instanceof Error ? error.message : String(error)})`)
    }
  }
  for (const server of reused) {
    log(
      `${server.options.name ?? 'server'}: a server already answers at ${where(server)} (\`reuseExistingServer\`): using it; ` +
        'its coverage cannot be measured (it was not started by server-coverage). Stop it, or run it under `server-coverage serve`, to have it measured.',
    )
  }
  return undefined
}
