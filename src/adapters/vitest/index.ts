import type {} from 'vitest'
import type { Plugin } from 'vitest/config'
import type { ServerOptions } from '../../options.js'
import type { ProjectState } from './state.js'
import { fileURLToPath } from 'node:url'
import { PREFIX } from '../../messages.js'
import { resolveServers } from '../../options.js'
import { projectKey, projects } from './state.js'

export type { ServerOptions } from '../../options.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the first server, e.g. `http://127.0.0.1:53211`. */
    serverUrl: string
    /** Base URL of every server, by `name`. */
    serverUrls: Record<string, string>
  }
}

const GLOBAL_SETUP = fileURLToPath(new URL('./global-setup.js', import.meta.url))
const PROVIDER_MODULES = {
  v8: fileURLToPath(new URL('./provider-v8.js', import.meta.url)),
  istanbul: fileURLToPath(new URL('./provider-istanbul.js', import.meta.url)),
} as const

/**
 * Vitest plugin: boots the server(s) before the tests (URL through `inject('serverUrl')`) and, with
 * `--coverage`, merges every server process's coverage into Vitest's own report and thresholds.
 *
 * @example
 * plugins: [serverCoverage({ command: 'node server.js', url: '/health' })]
 */
export function serverCoverage(options: ServerOptions | ServerOptions[]): Plugin {
  // Validate now, so a bad option fails when the config loads, with the option named.
  resolveServers(options, process.cwd())
  return {
    name: 'server-coverage',
    config() {
      return { test: { globalSetup: [GLOBAL_SETUP] } }
    },
    configureVitest({ vitest, project }) {
      const root = project.config.root
      const state: ProjectState = { root, servers: resolveServers(options, root), session: undefined, wrappedProvider: undefined }
      projects().set(projectKey(root, project.name), state)
      const coverage = vitest.config.coverage as { enabled: boolean; provider?: string; customProviderModule?: string }
      // `--merge-reports` runs no server: each shard's blob already holds its server coverage, and
      // the built-in provider's mergeReports merges them. (Vitest 4.1's module runner also hands a
      // custom provider module back empty in that mode: "was not the default export".)
      if (!coverage.enabled || (vitest.config as { mergeReports?: string }).mergeReports) return
      const provider = coverage.provider ?? 'v8'
      if (provider === 'v8' || provider === 'istanbul') {
        // Swap in our module before Vitest creates the provider: it loads the user's provider and
        // wraps its generateCoverage, so reports and thresholds see the server's files.
        coverage.provider = 'custom'
        coverage.customProviderModule = PROVIDER_MODULES[provider]
        state.wrappedProvider = provider
      } else if (coverage.customProviderModule && Object.values(PROVIDER_MODULES).includes(coverage.customProviderModule)) {
        // Another project already swapped it.
        state.wrappedProvider = Object.entries(PROVIDER_MODULES).find(([, path]) => path === coverage.customProviderModule)?.[0] as 'v8' | 'istanbul'
      } else {
        vitest.logger.warn(
          `${PREFIX}coverage.provider is '${provider}'; only 'v8' and 'istanbul' can include server coverage. ` +
            'The server will run, but its coverage is not collected.',
        )
      }
    },
  }
}

export default serverCoverage
