// Loaded by Vitest as `coverage.customProviderModule` when the user's provider is 'istanbul'.
import { providerModule } from './provider-module.js'

export default providerModule('@vitest/coverage-istanbul')
