import type { TestProject } from 'vitest/node'
import { openSession } from '../../open.js'
import { projectKey, projects } from './state.js'

/**
 * Global setup added by the plugin: starts the project's servers (or attaches to a running serve)
 * before its tests and provides their URLs. The teardown stops them (idempotent); coverage was already merged by the provider,
 * because Vitest writes its report before global teardown runs.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const state = projects().get(projectKey(project.config.root, project.name))
  if (!state) return undefined
  const coverage = state.wrappedProvider !== undefined && project.vitest.config.coverage.enabled
  const session = await openSession(state.servers, { root: project.config.root, coverage })
  state.session = session
  const urls = session.urls
  project.provide('serverUrl', Object.values(urls)[0]!)
  project.provide('serverUrls', urls)
  return async () => {
    state.session = undefined
    await session.stop()
  }
}
