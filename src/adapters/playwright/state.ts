import type { CoverageSession } from '../../collect.js'
import type { CoverageStash } from './config.js'

// What the runner's global setup hands to its global teardown. Both run in the runner process
// (also in `--ui`, where teardown runs when the UI closes) and import this one module instance.

/** One run of the runner, between our global setup and teardown. */
export interface RunState {
  stash: CoverageStash
  /** The Playwright config's folder: relative paths and globs are resolved against it. */
  configDir: string
  /** The servers we started, and a `server-coverage serve` we attached to for a reused server. */
  sessions: CoverageSession[]
  /** Private folder where workers write the browser's counts. */
  browserDir: string
  /** Set when the run was interrupted (Ctrl+C): the servers are stopped, nothing is reported. */
  interrupted: boolean
  /** Removes the interrupt listener. */
  release: () => void
}

let current: RunState | undefined

export function setRunState(state: RunState): void {
  current = state
}

/** The state of the run, handed over once. */
export function takeRunState(): RunState | undefined {
  const state = current
  current = undefined
  return state
}
