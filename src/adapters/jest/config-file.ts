import { loadConfigFile } from '../../config-file.js'
import { ServerCoverageError } from '../../errors.js'

/** Server options as found on disk, before validation, with where they came from. */
export interface FoundConfig {
  options: unknown
  /** The file (or `package.json "serverCoverage"`) they came from, for messages. */
  source: string
}

/**
 * Finds the server options of the Jest project rooted at `rootDir`: the first
 * `server-coverage.config.{js,mjs,cjs,json}` there, else a `"serverCoverage"` key in its
 * package.json (the same lookup as the CLI). Returns undefined when there is neither.
 */
export async function findServerConfig(rootDir: string): Promise<FoundConfig | undefined> {
  const found = await loadConfigFile(rootDir)
  return found && { options: found.options, source: found.file }
}

/** The error for a run where no project has server options. */
export function missingConfigError(rootDirs: string[]): ServerCoverageError {
  return new ServerCoverageError(
    'INVALID_OPTION',
    `no server options found in ${rootDirs.join(', ')}. Create a server-coverage.config.js next to your ` +
      "Jest config (`module.exports = { command: 'node server.js', url: '/health' }`) or add a \"serverCoverage\" key to package.json.",
  )
}
