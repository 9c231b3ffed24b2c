import type { JestGlobalConfig } from './jest-types.js'
import type { JestState } from './state.js'
import { rmSync } from 'node:fs'
import { holder } from './state.js'

/** Stops every server of `state` and removes the URL variables it set. */
export async function stopState(state: JestState): Promise<void> {
  for (const [name, value] of Object.entries(state.env)) if (process.env[name] === value) delete process.env[name]
  await Promise.all(state.projects.map((project) => project.session.stop()))
}

/** Removes the reporter's scratch folder (source maps Jest read while reporting). */
export function removeScratch(): void {
  const slot = holder()
  if (slot.scratchDir) rmSync(slot.scratchDir, { recursive: true, force: true })
  slot.scratchDir = undefined
}

/**
 * Jest global teardown (`server-coverage/jest/global-teardown`): stops the servers (graceful
 * signal, SIGKILL after `gracefulShutdown.timeout`). Idempotent. Jest wrote its coverage report
 * before this runs, so nothing is collected here. In watch mode the servers outlive each run
 * and are stopped when Jest exits.
 */
export async function globalTeardown(globalConfig?: JestGlobalConfig): Promise<void> {
  const slot = holder()
  const state = slot.current
  if (state?.watch && (globalConfig === undefined || globalConfig.watch || globalConfig.watchAll)) return
  slot.current = undefined
  try {
    if (state) await stopState(state)
  } finally {
    removeScratch()
  }
}

export default globalTeardown
