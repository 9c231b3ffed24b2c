/** The part of a project's servers that its URL variables are made from. */
export interface ProjectUrls {
  key: string
  /** Base URL of each server by name, first server first. */
  urls: Record<string, string>
}

/** A name as it appears in an environment variable: upper-cased, non-alphanumerics as `_`. */
export function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_')
}

function serverVariables(prefix: string, urls: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  const entries = Object.entries(urls)
  if (entries[0]) env[prefix] = entries[0][1]
  for (const [name, url] of entries) env[`${prefix}_${envName(name)}`] = url
  return env
}

/**
 * The environment variables that give tests the servers' URLs. `SERVER_URL` is the first server,
 * `SERVER_URL_<NAME>` each server. In `projects` mode every project shares `process.env`, so each
 * project's servers are also keyed by project: `SERVER_URL_<PROJECT>` and
 * `SERVER_URL_<PROJECT>_<NAME>`; the unkeyed names are then set only when a single project has
 * servers (otherwise they would silently point at another project's server).
 */
export function urlVariables(projects: readonly ProjectUrls[], projectsMode: boolean): Record<string, string> {
  const env: Record<string, string> = {}
  if (!projectsMode || projects.length === 1) Object.assign(env, serverVariables('SERVER_URL', projects[0]?.urls ?? {}))
  if (projectsMode) for (const project of projects) Object.assign(env, serverVariables(`SERVER_URL_${project.key}`, project.urls))
  return env
}
