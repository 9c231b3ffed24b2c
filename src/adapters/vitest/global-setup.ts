import type { TestProject } from 'vitest/node'
import { ServerCoverageSession } from '../../session.js'
import { projectKey, projects } from './state.js'

/**
 * Global setup added by the plugin: starts the project's servers before its tests and provides
 * their URLs. The teardown stops them (idempotent); coverage was already merged by the provider,
 * because Vitest writes its report before global teardown runs.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const state = projects().get(projectKey(project.config.root, project.name))
  if (!state) return undefined
  const coverage = state.wrappedProvider !== undefined && project.vitest.config.coverage.enabled
  const session = await ServerCoverageSession.start({ servers: state.servers, coverage })
  state.session = session
  const urls = session.urls
  project.provide('serverUrl', urls[state.servers[0]!.name]!)
  project.provide('serverUrls', urls)
  return async () => {
    state.session = undefined
    await session.stop()
  }
}
