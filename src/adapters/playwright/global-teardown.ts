import type { FullConfig } from '@playwright/test'
import type { CoverageMapData } from 'istanbul-lib-coverage'
import { removeDataDir } from '../../data-dir.js'
import { mergeInto } from '../../coverage/merge-into.js'
import { defaultLog, unmatchedMessage } from '../../messages.js'
import { BROWSER_ENV } from './browser-env.js'
import { browserCoverage } from './browser-report.js'
import { serverFilter, writeRunReports } from './report.js'
import { takeRunState } from './state.js'

/**
 * Playwright global teardown (runner process, after the user's own): flushes every server process
 * and reads what it ran, stops the servers, adds the browser's coverage, writes the reports and
 * checks the thresholds (throwing, which fails the run, when one is not met). After Ctrl+C it only
 * stops the servers.
 */
export default async function globalTeardown(config: FullConfig): Promise<void> {
  const run = takeRunState()
  if (!run) return
  run.release()
  delete process.env[BROWSER_ENV]
  try {
    if (run.interrupted) {
      await run.session?.stop()
      defaultLog('interrupted: the servers are stopped; no coverage report was written')
      return
    }
    // Every process is flushed over the control channel before any signal is sent (collect), then
    // what ran while shutting down is read too (stop).
    const server: CoverageMapData = {}
    if (run.session) {
      mergeInto(server, (await run.session.collect()).data)
      const leftovers = await run.session.stop({ collect: true })
      if (leftovers) mergeInto(server, leftovers.data)
    }
    const reported = serverFilter(run)
    for (const file of Object.keys(server)) if (!reported(file)) delete server[file]
    const browser = await browserCoverage(run.browserDir, run.configDir, run.stash.options, defaultLog)
    // One entry per file: a module both sides ran is added by location on one statement map.
    for (const [file, count] of mergeInto(browser, server)) defaultLog(unmatchedMessage(file, count, "the browser's statement map"))
    await writeRunReports(browser, run, config.shard, defaultLog)
  } finally {
    await run.session?.stop()
    await removeDataDir(run.browserDir)
  }
}
