import type { ServerOptions } from '../../options.js'
import { ServerCoverageError } from '../../errors.js'
import { resolveServerOptions } from '../../options.js'
import { stablePort } from './ports.js'

/**
 * One `webServer` entry: Playwright's own options, plus ours (`app`, `workers`, `runtime`,
 * `include`, `exclude`, …). Every entry is booted by server-coverage, under coverage, instead of
 * by Playwright.
 */
export interface CoverageWebServer extends Omit<ServerOptions, 'gracefulShutdown'> {
  /** Playwright: use a server already answering at `url` (or `port`) instead of starting one. Its coverage cannot be measured. */
  reuseExistingServer?: boolean
  /** Playwright's shape (`signal` is required there); ours also takes SIGHUP. */
  gracefulShutdown?: ServerOptions['gracefulShutdown']
  /** Playwright only; not supported here (our readiness probe is plain HTTP). */
  ignoreHTTPSErrors?: boolean
  /** Playwright only; not supported here: give `url` instead. */
  wait?: { stdout?: RegExp; stderr?: RegExp }
}

/** An entry as the runner process needs it: server options with a settled port, and how to reuse one. */
export interface PlannedServer {
  options: ServerOptions
  reuseExistingServer: boolean
  /** Where an already running server would answer (`url` with its port, else the port itself). */
  probe: { url: string } | { port: number }
  /** Origin the tests reach this server at. */
  baseUrl: string
}

/** Playwright waits 60 s for a webServer by default (ours is 30 s): keep Playwright's. */
const PLAYWRIGHT_READY_TIMEOUT_MS = 60_000
const PLAYWRIGHT_ONLY = ['reuseExistingServer', 'ignoreHTTPSErrors', 'wait'] as const

function optionName(index: number, many: boolean, key: string): string {
  return many ? `webServer[${index}].${key}` : `webServer.${key}`
}

/** The port an entry's server listens on, as Playwright reads it: `port`, else the port in `url`. */
function settledPort(entry: CoverageWebServer, key: string): number {
  if (entry.port !== undefined) return entry.port
  const url = entry.url
  if (url && /^https?:\/\//.test(url) && !url.includes('{port}')) {
    const parsed = new URL(url)
    return parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80
  }
  // `{port}` in the command or url, a path such as `/health`, or nothing: a free port, the same
  // in the runner and in every worker.
  return stablePort(key)
}

/**
 * Turns the config's `webServer` (an object or an array) into servers for the session, each on a
 * settled port. Options are validated now, with the names the user wrote (`webServer[1].port`),
 * so a mistake stops the config from loading.
 */
export function planWebServers(webServer: CoverageWebServer | CoverageWebServer[]): PlannedServer[] {
  const many = Array.isArray(webServer)
  const entries = many ? webServer : [webServer]
  return entries.map((entry, index) => {
    if (entry === null || typeof entry !== 'object') {
      throw new ServerCoverageError('INVALID_OPTION', `expected \`${many ? `webServer[${index}]` : 'webServer'}\` to be an object, got \`${String(entry)}\`.`)
    }
    if (entry.wait !== undefined) {
      throw new ServerCoverageError('INVALID_OPTION', `the \`${optionName(index, many, 'wait')}\` option is not supported with server coverage: give \`url\` (a readiness URL) instead.`)
    }
    if (entry.ignoreHTTPSErrors) {
      throw new ServerCoverageError('INVALID_OPTION', `the \`${optionName(index, many, 'ignoreHTTPSErrors')}\` option is not supported with server coverage: the readiness probe is plain HTTP; give an http:// \`url\`.`)
    }
    const { reuseExistingServer, ...rest } = entry
    for (const key of PLAYWRIGHT_ONLY) delete (rest as Record<string, unknown>)[key]
    const key = `${index}:${entry.name ?? ''}:${entry.command ?? entry.app ?? ''}`
    const port = settledPort(entry, key)
    const options: ServerOptions = {
      ...rest,
      port,
      timeout: entry.timeout ?? PLAYWRIGHT_READY_TIMEOUT_MS,
      // Playwright shows a webServer's stderr unless told not to.
      stderr: entry.stderr ?? 'pipe',
    }
    // Validated as one entry so messages name this option; the cwd is only resolved here.
    try {
      resolveServerOptions(options, process.cwd(), index, false)
    } catch (error) {
      if (!(error instanceof ServerCoverageError)) throw error
      const named = error.message.replace(/`(\w[\w.]*)`/, (_, name: string) => `\`${optionName(index, many, name)}\``)
      throw new ServerCoverageError(error.code, named, { cause: error })
    }
    const url = entry.url?.replaceAll('{port}', String(port))
    const absolute = url !== undefined && /^https?:\/\//.test(url)
    return {
      options,
      reuseExistingServer: reuseExistingServer ?? false,
      probe: absolute ? { url } : url !== undefined ? { url: `http://127.0.0.1:${port}${url}` } : { port },
      baseUrl: absolute ? new URL(url).origin : `http://127.0.0.1:${port}`,
    }
  })
}
