import type { JestGlobalConfig, JestProjectConfig } from './jest-types.js'
import { requireFromJest } from './resolve.js'

type ShouldInstrument = (filename: string, options: Record<string, unknown>, config: JestProjectConfig) => boolean

/**
 * Jest's own "is this file reported?" decision for server files: `collectCoverageFrom`,
 * `coveragePathIgnorePatterns` (node_modules by default), test files never, through
 * `shouldInstrument` of the project's `@jest/transform`. Data we inject bypasses Jest's filters,
 * so without this a server file the user excluded would still show up.
 *
 * Jest's "only files the tests loaded" default (no `collectCoverageFrom`) does not apply: server
 * files are never loaded by the tests, reporting them is the point. Neither do `--onlyChanged`
 * restrictions, for the same reason.
 */
export function jestFileFilter(globalConfig: JestGlobalConfig, config: JestProjectConfig): (path: string) => boolean {
  const { shouldInstrument } = requireFromJest<{ shouldInstrument: ShouldInstrument }>('@jest/transform', [config.rootDir, globalConfig.rootDir])
  const options = {
    collectCoverage: true,
    collectCoverageFrom: globalConfig.collectCoverageFrom ?? [],
    coverageProvider: globalConfig.coverageProvider ?? 'babel',
    globalRootDir: globalConfig.rootDir,
  }
  return (path) => {
    try {
      return shouldInstrument(path, options, config)
    } catch {
      // A config shape this Jest does not expect: keep the file rather than lose it silently.
      return true
    }
  }
}
