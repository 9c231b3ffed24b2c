import type { BrowserContext, Page } from '@playwright/test'
import type { BrowserScript } from './collect.js'

// Chromium's precise JS coverage of every page of one browser context, for one test: started when
// a page opens, taken when the test ends, or just before the test closes the page (a closed
// page's coverage is gone).

/** Tracks the pages of a context and hands over the scripts they ran. */
export class ContextCoverage {
  readonly #started = new Map<Page, Promise<boolean>>()
  readonly #scripts: BrowserScript[] = []
  readonly #taking = new Set<Promise<void>>()

  constructor(context: BrowserContext) {
    for (const page of context.pages()) this.#start(page)
    context.on('page', (page) => this.#start(page))
  }

  /** Resolves once the page's coverage is on: the test must not load scripts before that. */
  async ready(page: Page): Promise<void> {
    await this.#start(page)
  }

  #start(page: Page): Promise<boolean> {
    let started = this.#started.get(page)
    if (started) return started
    // `resetOnNavigation: false`: every document the page shows during the test counts.
    started = page.coverage.startJSCoverage({ resetOnNavigation: false }).then(
      () => true,
      () => false,
    )
    this.#started.set(page, started)
    const close = page.close.bind(page)
    page.close = async (options) => {
      await this.#take(page)
      return close(options)
    }
    return started
  }

  #take(page: Page): Promise<void> {
    const started = this.#started.get(page)
    if (!started) return Promise.resolve()
    this.#started.delete(page)
    const taking = (async () => {
      if (!(await started) || page.isClosed()) return
      try {
        this.#scripts.push(...(await page.coverage.stopJSCoverage()))
      } catch {
        // The page crashed or closed meanwhile: its coverage is gone.
      }
    })()
    this.#taking.add(taking)
    return taking
  }

  /** Stops every page's coverage and returns the scripts all pages ran during the test. */
  async finish(): Promise<BrowserScript[]> {
    await Promise.all([...this.#started.keys()].map((page) => this.#take(page)))
    await Promise.all(this.#taking)
    return this.#scripts.splice(0)
  }
}
