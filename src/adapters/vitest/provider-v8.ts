// The custom provider module Vitest loads instead of @vitest/coverage-v8: the built-in runtime
// functions (a test worker may load this module, observed both ways), plus a wrapped provider.
import type { CoverageProviderModule } from 'vitest/node'
import { importFromProject } from './resolve.js'

const load = async (): Promise<CoverageProviderModule> =>
  (await importFromProject<{ default: CoverageProviderModule }>('@vitest/coverage-v8')).default

const mod: CoverageProviderModule = {
  startCoverage: async (options) => (await load()).startCoverage?.(options),
  takeCoverage: async (options) => (await load()).takeCoverage?.(options),
  stopCoverage: async (options) => (await load()).stopCoverage?.(options),
  async getProvider() {
    const { wrapProvider } = await import('./wrap-provider.js')
    return wrapProvider(await (await load()).getProvider())
  },
}

export default mod
