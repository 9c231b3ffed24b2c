import { createRequire } from 'node:module'
import { join } from 'node:path'

/**
 * Requires one of Jest's own packages (`@jest/transform`, `jest-config`) as the running Jest sees
 * it: from the project's rootDir first, then through the Jest binary that is running
 * (`process.argv[1]`) and its `@jest/core`. Resolving from this package instead would find another
 * copy, or none, when server-coverage is linked or installed under pnpm's strict layout.
 */
export function requireFromJest<T>(specifier: string, rootDirs: readonly string[]): T {
  const bases = rootDirs.map((rootDir) => join(rootDir, 'package.json'))
  if (process.argv[1]) bases.push(process.argv[1])
  const errors: string[] = []
  for (const base of bases) {
    const require = createRequire(base)
    try {
      return require(specifier) as T
    } catch (error) {
      errors.push(`${base}: ${(error as Error).message.split('\n')[0]}`)
    }
    try {
      // Not a direct dependency of the project (pnpm): go through Jest's own dependency.
      return createRequire(require.resolve('@jest/core'))(specifier) as T
    } catch {
      // try the next base
    }
  }
  throw new Error(`server-coverage: could not load Jest's ${specifier} (${errors.join('; ')})`)
}
