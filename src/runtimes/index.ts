import type { RuntimeFactory } from './types.js'

/** The runtimes a server can run on; each is loaded only when a server needs it. */
export const RUNTIMES = {
  node: async () => (await import('./node/index.js')).createNodeRuntime,
  python: async () => (await import('./python/index.js')).createPythonRuntime,
  network: async () => (await import('./network/index.js')).createNetworkRuntime,
} as const satisfies Record<string, () => Promise<RuntimeFactory>>

export type RuntimeName = keyof typeof RUNTIMES

/** The factory of a runtime, by name. */
export function loadRuntime(name: RuntimeName): Promise<RuntimeFactory> {
  return RUNTIMES[name]()
}
