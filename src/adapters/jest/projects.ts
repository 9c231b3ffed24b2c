import type { JestGlobalConfig, JestProjectConfig } from './jest-types.js'
import { statSync } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import { envName } from './env.js'
import { requireFromJest } from './resolve.js'

/** A Jest project that may have servers. */
export interface JestProject {
  rootDir: string
  /** Key in `SERVER_URL_<KEY>`: the project's displayName, else its folder name. */
  key: string
  /** Its resolved Jest config when known (needed by `shouldInstrument`). */
  config: JestProjectConfig | undefined
}

type ReadConfig = (
  argv: Record<string, unknown>,
  packageRootOrConfig: string | Record<string, unknown>,
  skipArgvConfigOption: boolean,
  parentConfigDirname: string,
  projectIndex: number,
  skipMultipleConfigError: boolean,
) => Promise<{ projectConfig: JestProjectConfig }>

/** Where a `projects` entry lives when Jest's own config reader cannot tell us. */
function fallbackRootDir(entry: string | Record<string, unknown>, globalRootDir: string): string {
  if (typeof entry !== 'string') return typeof entry.rootDir === 'string' ? resolve(globalRootDir, entry.rootDir) : globalRootDir
  const path = resolve(globalRootDir, entry.replace(/^<rootDir>/, globalRootDir))
  try {
    return statSync(path).isDirectory() ? path : dirname(path)
  } catch {
    return path
  }
}

function projectKey(config: JestProjectConfig | undefined, rootDir: string): string {
  return envName(config?.displayName?.name ?? basename(rootDir))
}

/**
 * Lists the run's projects. Jest calls a global setup module once per distinct path, with one
 * project's config, even when several projects name it: in `projects` mode we read every
 * project's config ourselves, with the running Jest's `readConfig`, to find each project's rootDir
 * (where its server options live), its displayName and the config `shouldInstrument` needs.
 */
export async function listProjects(globalConfig: JestGlobalConfig, projectConfig: JestProjectConfig): Promise<JestProject[]> {
  const entries = globalConfig.projects ?? []
  if (entries.length === 0) return [{ rootDir: projectConfig.rootDir, key: projectKey(projectConfig, projectConfig.rootDir), config: projectConfig }]
  let readConfig: ReadConfig | undefined
  try {
    readConfig = requireFromJest<{ readConfig: ReadConfig }>('jest-config', [globalConfig.rootDir]).readConfig
  } catch {
    readConfig = undefined
  }
  const projects: JestProject[] = []
  for (const [index, entry] of entries.entries()) {
    let config: JestProjectConfig | undefined
    try {
      // The same arguments Jest's readConfigs passes for a project (index, no --config, no
      // multiple-config error); an inline object is copied because readConfig mutates it.
      const source = typeof entry === 'string' ? entry : { ...entry }
      config = (await readConfig?.({ $0: 'jest', _: [] }, source, true, globalConfig.rootDir, index, true))?.projectConfig
    } catch {
      config = undefined
    }
    const rootDir = config?.rootDir ?? fallbackRootDir(entry, globalConfig.rootDir)
    // Jest's own config of the project it passed us is the authoritative one (CLI flags applied).
    const same = projectConfig.rootDir === rootDir && projectConfig.displayName?.name === config?.displayName?.name
    const known = same ? projectConfig : config
    projects.push({ rootDir, key: projectKey(known, rootDir), config: known })
  }
  // Keys must be unique: two projects of one folder without displayName get _2, _3…
  const seen = new Map<string, number>()
  for (const project of projects) {
    const count = (seen.get(project.key) ?? 0) + 1
    seen.set(project.key, count)
    if (count > 1) project.key = `${project.key}_${count}`
  }
  return projects
}
