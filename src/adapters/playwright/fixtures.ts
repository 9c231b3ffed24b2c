import type { BrowserContext } from '@playwright/test'
import { test as base } from '@playwright/test'
import { BrowserCoverageMapper } from '../../browser/collect.js'
import { ContextCoverage } from '../../browser/pages.js'
import { writeBrowserCounts } from '../../browser/store.js'
import { readBrowserEnv } from './browser-env.js'

/** The worker's collector, when the run was wrapped with `withServerCoverage`. */
interface WorkerCoverage {
  dir: string
  mapper: BrowserCoverageMapper
}

const contexts = new WeakMap<BrowserContext, ContextCoverage>()
let written = 0

/**
 * `@playwright/test`'s `test`, with the browser's JavaScript coverage collected from every page of
 * each test's context (Chromium only) and added to the run's server-coverage report.
 */
export const test = base.extend<object, { serverCoverageWorker: WorkerCoverage | undefined }>({
  serverCoverageWorker: [
    async ({}, use) => {
      const env = readBrowserEnv()
      await use(env ? { dir: env.dir, mapper: new BrowserCoverageMapper({ roots: env.roots }) } : undefined)
    },
    { scope: 'worker' },
  ],
  context: async ({ context, browserName, serverCoverageWorker }, use, testInfo) => {
    if (!serverCoverageWorker) return use(context)
    // Chromium is the only browser with precise JS coverage (the DevTools protocol's Profiler).
    if (browserName !== 'chromium') {
      serverCoverageWorker.mapper.note(`browser coverage is collected in Chromium only: the ${browserName} tests add none`)
      writeBrowserCounts(serverCoverageWorker.dir, `w${testInfo.workerIndex}-${browserName}`, serverCoverageWorker.mapper.take())
      return use(context)
    }
    const coverage = new ContextCoverage(context)
    contexts.set(context, coverage)
    await use(context)
    await serverCoverageWorker.mapper.add(await coverage.finish())
    const name = `w${testInfo.workerIndex}-${testInfo.testId}-r${testInfo.retry}-${written++}`
    writeBrowserCounts(serverCoverageWorker.dir, name, serverCoverageWorker.mapper.take())
  },
  page: async ({ page }, use) => {
    await contexts.get(page.context())?.ready(page)
    await use(page)
  },
})
