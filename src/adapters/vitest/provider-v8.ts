// The custom provider module Vitest loads instead of @vitest/coverage-v8: the built-in runtime
// functions (a test worker may load this module, observed both ways), plus a wrapped provider.
import builtin from '@vitest/coverage-v8'

const mod: typeof builtin = {
  ...builtin,
  async getProvider() {
    const { wrapProvider } = await import('./wrap-provider.js')
    return wrapProvider(await builtin.getProvider())
  },
}

export default mod
