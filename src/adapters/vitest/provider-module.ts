import type { CoverageProviderModule } from 'vitest/node'

/**
 * The custom provider module Vitest loads instead of a built-in one (`@vitest/coverage-v8` or
 * `-istanbul`): the built-in runtime functions, for a test worker that loads this module (observed
 * both ways), and `getProvider` returning the built-in provider with its generateCoverage wrapped.
 * The built-in is imported as the project resolves it, and lazily: workers never need the wrapper.
 */
export function providerModule(builtin: '@vitest/coverage-v8' | '@vitest/coverage-istanbul'): CoverageProviderModule {
  const load = async (): Promise<CoverageProviderModule> => {
    const { importFromProject } = await import('./resolve.js')
    return (await importFromProject<{ default: CoverageProviderModule }>(builtin)).default
  }
  return {
    startCoverage: async (options) => (await load()).startCoverage?.(options),
    takeCoverage: async (options) => (await load()).takeCoverage?.(options),
    stopCoverage: async (options) => (await load()).stopCoverage?.(options),
    async getProvider() {
      const { wrapProvider } = await import('./wrap-provider.js')
      return wrapProvider(await (await load()).getProvider())
    },
  }
}
