import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { projects } from './state.js'

/**
 * Imports a Vitest package as the user's project resolves it (from its root), the way Vitest
 * itself finds its coverage providers. Resolving from this package instead would pick another copy
 * when server-coverage is linked (workspaces, `npm link`) or installed under pnpm's strict layout.
 */
export async function importFromProject<T>(specifier: string): Promise<T> {
  const roots = [...new Set([...projects().values()].map((state) => state.root)), process.cwd()]
  for (const root of roots) {
    let path: string
    try {
      path = createRequire(join(root, 'package.json')).resolve(specifier)
    } catch {
      continue
    }
    return (await import(pathToFileURL(path).href)) as T
  }
  return (await import(specifier)) as T
}
