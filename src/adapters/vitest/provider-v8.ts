// Loaded by Vitest as `coverage.customProviderModule` when the user's provider is 'v8'.
import { providerModule } from './provider-module.js'

export default providerModule('@vitest/coverage-v8')
