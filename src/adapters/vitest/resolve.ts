import { readFileSync } from 'node:fs'
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
  const path = resolveFromProject(specifier)
  return (await import(path ? pathToFileURL(path).href : specifier)) as T
}

/** The version of a package as the project resolves it (see `importFromProject`), or undefined. */
export function projectPackageVersion(name: string): string | undefined {
  const path = resolveFromProject(`${name}/package.json`)
  try {
    return path ? (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version : undefined
  } catch {
    return undefined
  }
}

function resolveFromProject(specifier: string): string | undefined {
  const roots = [...new Set([...projects().values()].map((state) => state.root)), process.cwd()]
  for (const root of roots) {
    try {
      return createRequire(join(root, 'package.json')).resolve(specifier)
    } catch {
      // not from this root
    }
  }
  return undefined
}
