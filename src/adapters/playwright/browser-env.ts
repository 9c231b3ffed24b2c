/** Environment variable through which the runner tells workers where to leave browser coverage. */
export const BROWSER_ENV = 'SERVER_COVERAGE_PLAYWRIGHT_BROWSER'

/** What the runner tells workers. */
export interface BrowserEnv {
  /** Private folder for the workers' files. */
  dir: string
  /** Folders under which browser scripts and their sources are looked for. */
  roots: string[]
}

/** The runner's instructions, or undefined when the config was not wrapped with `withServerCoverage`. */
export function readBrowserEnv(): BrowserEnv | undefined {
  const value = process.env[BROWSER_ENV]
  if (!value) return undefined
  try {
    return JSON.parse(value) as BrowserEnv
  } catch {
    return undefined
  }
}
