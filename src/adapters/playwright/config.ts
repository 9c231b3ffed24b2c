import type { PlaywrightTestConfig } from '@playwright/test'
import type { ReporterName } from '../../report/write.js'
import type { Metric } from '../../report/thresholds.js'
import type { CoverageWebServer, PlannedServer } from './web-server.js'
import { fileURLToPath } from 'node:url'
import { ServerCoverageError } from '../../errors.js'
import { METRICS } from '../../report/thresholds.js'
import { REPORTERS } from '../../report/write.js'
import { planWebServers } from './web-server.js'

/** What `withServerCoverage` adds to a Playwright config. */
export interface PlaywrightCoverageOptions {
  /**
   * Globs of files to report, server and browser alike, relative to the config's folder (a
   * `webServer` entry's own `include`/`exclude` decide for that server's files). @default every
   * file under the config's folder (never `node_modules`)
   * @example ['src/**']
   */
  include?: string[]
  /** Globs of files not to report. */
  exclude?: string[]
  /** Istanbul reports to write (`text` prints the table). @default ['text', 'json'] */
  reporter?: ReporterName[]
  /** Where reports go, relative to the config's folder. @default 'coverage' */
  reportsDirectory?: string
  /**
   * Minimum percentages; a metric below its threshold fails the run (exit code 1) with a message
   * naming it. `perFile` checks every file instead of the total. Not checked per `--shard`: check
   * the merged shards with `server-coverage check`.
   */
  thresholds?: Partial<Record<Metric, number>> & { perFile?: boolean }
}

/** A Playwright config whose `webServer` entries may also use server-coverage's options. */
export type CoverageConfig<T = object, W = object> = Omit<PlaywrightTestConfig<T, W>, 'webServer'> & {
  webServer?: CoverageWebServer | CoverageWebServer[]
}

/** What the wrapper leaves in the config for the runner's global setup and teardown. */
export interface CoverageStash {
  servers: PlannedServer[]
  options: Required<Pick<PlaywrightCoverageOptions, 'reporter' | 'reportsDirectory'>> & Omit<PlaywrightCoverageOptions, 'reporter' | 'reportsDirectory'>
}

/** Key under which the stash travels: Playwright copies config keys starting with `@` into the FullConfig hooks receive. */
export const STASH_KEY = '@server-coverage/playwright'

const GLOBAL_SETUP = fileURLToPath(new URL('./global-setup.js', import.meta.url))
const GLOBAL_TEARDOWN = fileURLToPath(new URL('./global-teardown.js', import.meta.url))

function asList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

function validateOptions(options: PlaywrightCoverageOptions): CoverageStash['options'] {
  const reporter = options.reporter ?? ['text', 'json']
  if (!Array.isArray(reporter) || reporter.some((name) => !(REPORTERS as readonly string[]).includes(name))) {
    throw new ServerCoverageError('INVALID_OPTION', `expected the \`reporter\` option to be an array of ${REPORTERS.join(', ')}, got \`${JSON.stringify(reporter)}\`.`)
  }
  for (const [key, value] of Object.entries(options.thresholds ?? {})) {
    if (key === 'perFile') continue
    if (!(METRICS as readonly string[]).includes(key)) {
      throw new ServerCoverageError('INVALID_OPTION', `unknown option \`thresholds.${key}\`. Known: ${METRICS.join(', ')}, perFile.`)
    }
    if (typeof value !== 'number' || value < 0 || value > 100) {
      throw new ServerCoverageError('INVALID_OPTION', `expected the \`thresholds.${key}\` option to be a percentage from 0 to 100, got \`${String(value)}\`.`)
    }
  }
  return { ...options, reporter, reportsDirectory: options.reportsDirectory ?? 'coverage' }
}

/**
 * Wraps a Playwright config so that every `webServer` entry is booted by server-coverage, under
 * coverage, instead of by Playwright; at the end of the run every server process is flushed, the
 * browser's coverage (from `test` of `server-coverage/playwright`) is added, and the reports are
 * written. Playwright evaluates the config in every process; this is cheap and gives the same
 * result each time (ports included).
 *
 * @example
 * export default withServerCoverage(defineConfig({ webServer: { command: 'node server.js', url: 'http://127.0.0.1:3000/health' } }), { include: ['src/**'] })
 */
export function withServerCoverage<T = object, W = object>(config: CoverageConfig<T, W>, options: PlaywrightCoverageOptions = {}): PlaywrightTestConfig<T, W> {
  const { webServer, ...rest } = config
  const servers = webServer === undefined ? [] : planWebServers(webServer)
  const stash: CoverageStash = { servers, options: validateOptions(options) }
  const use: { baseURL?: string | undefined } = { ...(rest.use ?? {}) }
  const first = servers[0]
  if (first && (use.baseURL === undefined || use.baseURL.includes('{port}'))) {
    use.baseURL = use.baseURL === undefined ? first.baseUrl : use.baseURL.replaceAll('{port}', String(first.options.port))
  }
  return {
    ...rest,
    use,
    // Our setup first (the servers are up when the user's global setup runs, as with Playwright's
    // webServer); our teardown last (they stay up through the user's global teardown).
    globalSetup: [GLOBAL_SETUP, ...asList(rest.globalSetup)],
    globalTeardown: [...asList(rest.globalTeardown), GLOBAL_TEARDOWN],
    [STASH_KEY]: stash,
  } as unknown as PlaywrightTestConfig<T, W>
}
