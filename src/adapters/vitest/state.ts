import type { ResolvedServerOptions } from '../../options.js'
import type { CoverageSession } from '../../collect.js'

/** What one Vitest project's servers share between the plugin, the global setup and the provider. */
export interface ProjectState {
  root: string
  servers: ResolvedServerOptions[]
  session: CoverageSession | undefined
  /** The user's own provider (`v8` or `istanbul`) once we wrapped it. */
  wrappedProvider: 'v8' | 'istanbul' | undefined
}

const KEY = Symbol.for('server-coverage.vitest.projects')

/**
 * Per-process registry of projects. The config file, the global setup and the coverage provider
 * are loaded through different module graphs (Vite's config bundler, Vitest's module runner), so
 * a module-level variable would exist once per graph: state lives on `globalThis` instead.
 */
export function projects(): Map<string, ProjectState> {
  const holder = globalThis as unknown as Record<symbol, Map<string, ProjectState> | undefined>
  holder[KEY] ??= new Map()
  return holder[KEY]
}

/** The registry key of a Vitest project. */
export function projectKey(root: string, name: string | undefined): string {
  return `${root}\0${name ?? ''}`
}
