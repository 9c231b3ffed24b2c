import type { JestGlobalConfig, JestProjectConfig } from './jest-types.js'
import type { JestProject } from './projects.js'
import type { JestState, ProjectServers } from './state.js'
import { ServerCoverageError } from '../../errors.js'
import { defaultLog } from '../../messages.js'
import { resolveServers } from '../../options.js'
import { openSession } from '../../open.js'
import { findServerConfig, missingConfigError } from './config-file.js'
import { urlVariables } from './env.js'
import { listProjects } from './projects.js'
import { holder } from './state.js'
import { stopState } from './teardown.js'
import { installV8Route } from './v8-report-route.js'

async function startProject(project: JestProject, options: unknown, coverage: boolean, prefix: string): Promise<ProjectServers> {
  const servers = resolveServers(options, project.rootDir)
  const log = (line: string): void => defaultLog(prefix + line)
  const session = await openSession(servers, { root: project.rootDir, coverage, log })
  return { key: project.key, rootDir: project.rootDir, servers, session, config: project.config }
}

/** Starts every project's servers at once; if one fails, stops the others before throwing. */
async function startAll(found: { project: JestProject; options: unknown }[], coverage: boolean): Promise<ProjectServers[]> {
  const many = found.length > 1
  const settled = await Promise.allSettled(
    found.map(({ project, options }) => startProject(project, options, coverage, many ? `[${project.key}] ` : '')),
  )
  const started = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  const failure = settled.find((result) => result.status === 'rejected')
  if (failure) {
    await Promise.all(started.map((project) => project.session.stop()))
    throw failure.reason
  }
  return started
}

/**
 * Jest global setup (`server-coverage/jest/global-setup`): boots the servers of every project that
 * has server options, before any test runs, and gives tests their URLs through `process.env`
 * (`SERVER_URL`, `SERVER_URL_<NAME>`; keyed per project in `projects` mode), which reaches the
 * test workers. The servers run under coverage only when Jest collects coverage. In watch mode
 * the servers are started once and reused by every rerun.
 */
export async function globalSetup(globalConfig: JestGlobalConfig, projectConfig: JestProjectConfig): Promise<void> {
  const coverage = Boolean(globalConfig.collectCoverage)
  const watch = Boolean(globalConfig.watch || globalConfig.watchAll)
  const projects = await listProjects(globalConfig, projectConfig)
  const found: { project: JestProject; options: unknown }[] = []
  const rootDirs = new Set<string>()
  for (const project of projects) {
    // Two projects of one folder (different testMatch) share its servers: start them once.
    if (rootDirs.has(project.rootDir)) continue
    rootDirs.add(project.rootDir)
    const config = await findServerConfig(project.rootDir)
    if (config) found.push({ project, options: config.options })
  }
  if (found.length === 0) throw missingConfigError([...rootDirs])
  // Validate every project's options before starting anything.
  const resolved = found.flatMap(({ project, options }) => resolveServers(options, project.rootDir))
  const onLoad = resolved.find((server) => server.counting === 'load')
  if (coverage && globalConfig.coverageProvider === 'v8' && onLoad) {
    // Jest's v8 provider converts raw V8 itself (v8-to-istanbul, per function): counting on load
    // writes V8's ranges but not its per-function layout, so Jest would report other numbers.
    throw new ServerCoverageError(
      'UNSUPPORTED',
      `the \`counting\` option 'load' of "${onLoad.name}" cannot go into Jest's v8 report: Jest converts raw V8 data itself, and counting on load does not give V8's per-function layout. Set \`coverageProvider: 'babel'\` in the Jest config, or \`counting: 'v8'\`.`,
    )
  }
  if (coverage && globalConfig.coverageProvider === 'v8' && resolved.some((server) => server.runtime !== 'node')) {
    // Coverage that is not V8 (Python) has no public way into Jest's v8 report: check the seam now.
    installV8Route(defaultLog)
  }

  const state = holder()
  const fingerprint = JSON.stringify([coverage, found.map(({ project, options }) => [project.rootDir, project.key, options])])
  if (state.current && state.current.watch && state.current.fingerprint === fingerprint) {
    // A watch rerun: same servers, keep them (each run's report gets what ran since the last one).
    Object.assign(process.env, state.current.env)
    return
  }
  if (state.current) await stopState(state.current)
  state.current = undefined

  const started = await startAll(found, coverage)
  const env = urlVariables(
    started.map((project) => ({ key: project.key, urls: project.session.urls })),
    (globalConfig.projects ?? []).length > 0,
  )
  Object.assign(process.env, env)
  const current: JestState = { projects: started, coverage, watch, fingerprint, env }
  state.current = current
}

export default globalSetup
