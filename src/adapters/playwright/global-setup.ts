import type { FullConfig } from '@playwright/test'
import type { CoverageStash } from './config.js'
import type { RunState } from './state.js'
import { dirname, resolve } from 'node:path'
import { createDataDir } from '../../data-dir.js'
import { startServerCoverage } from '../../index.js'
import { defaultLog } from '../../messages.js'
import { STASH_KEY } from './config.js'
import { BROWSER_ENV } from './browser-env.js'
import { attachReused, isAlreadyServing } from './reuse.js'
import { setRunState } from './state.js'

/** `playwright test --ui` (also `--ui-port`, `--ui-host`): global setup and teardown run once per UI session. */
const UI_MODE = /(^| )--ui(-port|-host)?(=| |$)/

/**
 * Playwright global setup (runs in the runner process, before the user's own): boots every
 * `webServer` entry under coverage and prepares the folder where workers leave the browser's
 * coverage. Throws (nothing left running) if a server cannot start; Playwright then fails the run
 * with that message.
 */
export default async function globalSetup(config: FullConfig): Promise<void> {
  const stash = (config as unknown as Record<string, unknown>)[STASH_KEY] as CoverageStash | undefined
  if (!stash) return
  const configDir = config.configFile ? dirname(config.configFile) : process.cwd()
  const toStart = []
  const reused = []
  for (const server of stash.servers) {
    if (server.reuseExistingServer && (await isAlreadyServing(server))) reused.push(server)
    else toStart.push(server.options)
  }
  const browserDir = await createDataDir()
  // Workers are started after global setup and inherit the runner's environment.
  const roots = [configDir, ...stash.servers.map((server) => resolve(configDir, server.options.cwd ?? '.'))]
  process.env[BROWSER_ENV] = JSON.stringify({ dir: browserDir, roots: [...new Set(roots)] })
  const state: RunState = { stash, configDir, sessions: [], browserDir, interrupted: false, release: () => {} }
  // Ctrl+C during a run: Playwright stops the workers and runs the teardown, which then only stops
  // the servers (the run is incomplete). In UI mode Ctrl+C is how the session ends (between runs):
  // the teardown reports everything the UI ran.
  if (!UI_MODE.test(process.argv.join(' '))) {
    const onInterrupt = (): void => void (state.interrupted = true)
    process.once('SIGINT', onInterrupt)
    state.release = () => void process.off('SIGINT', onInterrupt)
  }
  setRunState(state)
  const attached = await attachReused(reused, configDir, defaultLog)
  if (attached) state.sessions.push(attached)
  if (toStart.length > 0) state.sessions.push(await startServerCoverage(toStart, { root: configDir, log: defaultLog }))
}
