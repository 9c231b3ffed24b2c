import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ServerCoverageError } from '../../errors.js'

/** Config file names looked up in a project's rootDir, in this order. */
export const CONFIG_FILES = [
  'server-coverage.config.js',
  'server-coverage.config.cjs',
  'server-coverage.config.mjs',
  'server-coverage.config.json',
] as const

/** Server options as found on disk, before validation, with where they came from. */
export interface FoundConfig {
  options: unknown
  /** The file (or `package.json#serverCoverage`) they came from, for messages. */
  source: string
}

async function loadModule(file: string): Promise<unknown> {
  try {
    // import() loads CommonJS and ESM alike; a CommonJS `module.exports` arrives as `default`.
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown }
    return mod.default ?? mod
  } catch (error) {
    throw new ServerCoverageError(
      'INVALID_OPTION',
      `server-coverage: could not load ${file}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    )
  }
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown
  } catch (error) {
    throw new ServerCoverageError('INVALID_OPTION', `server-coverage: ${file} is not valid JSON: ${(error as Error).message}`, { cause: error })
  }
}

/**
 * Finds the server options of the Jest project rooted at `rootDir`: the first
 * `server-coverage.config.{js,cjs,mjs,json}` there, else a `"serverCoverage"` key in its
 * package.json. Returns undefined when there is neither (validation happens later).
 */
export async function findServerConfig(rootDir: string): Promise<FoundConfig | undefined> {
  for (const name of CONFIG_FILES) {
    const file = join(rootDir, name)
    if (!existsSync(file)) continue
    const options = name.endsWith('.json') ? await readJson(file) : await loadModule(file)
    // A module may export a (possibly async) function, to compute options at setup time.
    return { options: typeof options === 'function' ? await (options as () => unknown)() : options, source: file }
  }
  const packageJson = join(rootDir, 'package.json')
  if (existsSync(packageJson)) {
    const manifest = (await readJson(packageJson)) as { serverCoverage?: unknown } | null
    if (manifest?.serverCoverage !== undefined) return { options: manifest.serverCoverage, source: `${packageJson}#serverCoverage` }
  }
  return undefined
}

/** The error for a run where no project has server options. */
export function missingConfigError(rootDirs: string[]): ServerCoverageError {
  return new ServerCoverageError(
    'INVALID_OPTION',
    `server-coverage: no server options found in ${rootDirs.join(', ')}. Create a server-coverage.config.js next to your ` +
      "Jest config (`module.exports = { command: 'node server.js', url: '/health' }`) or add a \"serverCoverage\" key to package.json.",
  )
}
