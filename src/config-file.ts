import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ServerCoverageError } from './errors.js'

/** File names searched, in order, next to the runner's config (or the current folder). */
export const CONFIG_FILES = ['server-coverage.config.js', 'server-coverage.config.mjs', 'server-coverage.config.cjs', 'server-coverage.config.json'] as const

/**
 * Loads server options from a config file: an explicit `path`, else the first of `CONFIG_FILES` in
 * `dir`, else the `"serverCoverage"` key of `dir/package.json`. Returns undefined when none exists.
 * JS files export the options (or a function returning them) as default / `module.exports`.
 */
export async function loadConfigFile(dir: string, path?: string): Promise<{ file: string; options: unknown } | undefined> {
  const file = path ? resolve(dir, path) : CONFIG_FILES.map((name) => join(dir, name)).find((candidate) => existsSync(candidate))
  if (file) {
    try {
      if (file.endsWith('.json')) return { file, options: JSON.parse(await readFile(file, 'utf8')) as unknown }
      const module = (await import(pathToFileURL(file).href)) as { default?: unknown }
      const exported = module.default ?? module
      return { file, options: typeof exported === 'function' ? await (exported as () => unknown)() : exported }
    } catch (cause) {
      const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : `it could not be loaded: ${(cause as Error).message}`
      throw new ServerCoverageError('INVALID_OPTION', `cannot read the config file ${file}: ${reason}.`, { cause })
    }
  }
  const packageJson = join(dir, 'package.json')
  if (!existsSync(packageJson)) return undefined
  try {
    const options = (JSON.parse(await readFile(packageJson, 'utf8')) as { serverCoverage?: unknown }).serverCoverage
    return options === undefined ? undefined : { file: `${packageJson} ("serverCoverage")`, options }
  } catch (cause) {
    throw new ServerCoverageError('INVALID_OPTION', `cannot read ${packageJson}: ${(cause as Error).message}.`, { cause })
  }
}
