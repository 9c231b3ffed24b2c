// The custom provider module Vitest loads instead of @vitest/coverage-v8: the built-in runtime
// functions (a test worker may load this module, observed both ways), plus a wrapped provider.
//
// No static imports, on purpose: Vitest loads this file through its module runner, which turns
// static imports into awaits, and `vitest --merge-reports` initialises the provider twice
// concurrently: the second import then receives the half-evaluated, empty module ("was not the
// default export"). A module without imports evaluates synchronously.
import type { CoverageProviderModule } from 'vitest/node'

const load = async (): Promise<CoverageProviderModule> => {
  const { importFromProject } = await import('./resolve.js')
  return (await importFromProject<{ default: CoverageProviderModule }>('@vitest/coverage-v8')).default
}

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
