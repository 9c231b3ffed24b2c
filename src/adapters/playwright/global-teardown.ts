import type { FullConfig } from '@playwright/test'
import type { CoverageMapData } from 'istanbul-lib-coverage'
import { removeDataDir } from '../../data-dir.js'
import { globPredicate } from '../../coverage/filter.js'
import { mergeInto } from '../../coverage/merge-into.js'
import { defaultLog, unmatchedMessage } from '../../messages.js'
import { BROWSER_ENV } from './browser-env.js'
import { browserCoverage } from './browser-report.js'
import { writeRunReports } from './report.js'
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
      for (const session of run.sessions) await session.stop()
      defaultLog('interrupted: the servers are stopped; no coverage report was written')
      return
    }
    // Every server process is flushed over the control channel before anything is signalled;
    // what ran while shutting down is read too. The wrapper's include/exclude decide for servers
    // without globs of their own (rule 3 of the report filter).
    const { include, exclude } = run.stash.options
    const filter = include === undefined && exclude === undefined ? undefined : globPredicate(run.configDir, include, exclude)
    const server: CoverageMapData = {}
    for (const session of run.sessions) {
      const collected = await session.stop({ collect: true, ...(filter ? { filter } : {}) })
      for (const [file, count] of mergeInto(server, collected?.data ?? {})) defaultLog(unmatchedMessage(file, count, "another server's map of it"))
    }
    const browser = await browserCoverage(run.browserDir, run.configDir, run.stash.options, defaultLog)
    // One entry per file: a module both sides ran is added by location on one statement map.
    for (const [file, count] of mergeInto(browser, server)) defaultLog(unmatchedMessage(file, count, "the browser's statement map"))
    await writeRunReports(browser, run, config.shard, defaultLog)
  } finally {
    for (const session of run.sessions) await session.stop()
    await removeDataDir(run.browserDir)
  }
}
