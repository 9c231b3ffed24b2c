import type { LoadedModule } from './resolve-handler.js'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * Loads the user's app module the way a file of theirs that `require`s or `import`s it would, so
 * the start guards of real projects stay asleep in the host:
 * - CommonJS through `require`: `module.parent` is set, and `require.main !== module` (the
 *   process's main module is the host, an ES module, so `require.main` is undefined);
 * - ES modules through `import()`: `import.meta.url` is not `process.argv[1]` (the host script),
 *   and `import.meta.main` (Node 24.2+) is false;
 * - TypeScript through the loader the project would use (see `typeScriptExecArgv`).
 * `import()` of a CommonJS file would leave `module.parent` undefined, which is what woke the
 * `if (!module.parent) app.listen(3000)` guard of every Express example (issue 10).
 */

/** Whether Node treats the file as CommonJS or as an ES module. */
export type ModuleFormat = 'commonjs' | 'module'

const TYPESCRIPT = /\.[cm]?tsx?$/

/** The `type` of the nearest package.json above `file` (Node's own rule for `.js` and `.ts`). */
function packageType(file: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type
      } catch {
        return undefined // Node itself would fail on it; the load reports that
      }
    }
    if (dirname(dir) === dir) return undefined
  }
}

/**
 * Node's rule: `.mjs`/`.mts` are ES modules, `.cjs`/`.cts` CommonJS, other extensions follow the
 * nearest package.json `type` (CommonJS when absent; Node's syntax detection then still lets
 * `require()` load an ESM-syntax file as an ES module, exactly as it does for any CommonJS caller).
 */
export function moduleFormat(file: string): ModuleFormat {
  if (/\.m[jt]s$/.test(file)) return 'module'
  if (/\.c[jt]s$/.test(file)) return 'commonjs'
  return packageType(file) === 'module' ? 'module' : 'commonjs'
}

/** `require` as a module of the host would have it; the app's `module.parent` is then the host. */
const requireFromHost = createRequire(import.meta.url)

/** Loads the module as its format says. */
export async function loadModule(file: string): Promise<LoadedModule> {
  if (moduleFormat(file) === 'module') return { exports: (await import(pathToFileURL(file).href)) as unknown, via: 'import' }
  try {
    return { exports: requireFromHost(file) as unknown, via: 'require' }
  } catch (error) {
    // An ES module that `require()` cannot load synchronously (top-level await) or at all (Node
    // without require(esm)): a CommonJS caller would have to `import()` it too.
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ERR_REQUIRE_ASYNC_MODULE' || code === 'ERR_REQUIRE_ESM') {
      return { exports: (await import(pathToFileURL(file).href)) as unknown, via: 'import' }
    }
    throw error
  }
}

/** A loader already given to the host's Node (the `env` option's NODE_OPTIONS, or the runner's). */
function hasTypeScriptLoader(): boolean {
  const flags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`
  return /(--import|--require|-r|--loader|--experimental-loader)[= ]\S*(tsx|ts-node|@swc-node|esbuild-register)|--experimental-(strip|transform)-types/.test(flags)
}

/**
 * The Node flags workers need to load a TypeScript app, decided in the primary WITHOUT loading it:
 * none for JavaScript or when a loader is already set; `--import <tsx>` when the project has tsx
 * (resolved from the app's folder, as the project's own `node --import tsx` would); nothing on a
 * Node that strips types by default (23.6+, 24); `--experimental-strip-types` on 22.6–23.5. Throws
 * a user-facing Error when none of those applies.
 */
export function typeScriptExecArgv(file: string, nodeVersion = process.versions.node): string[] {
  if (!TYPESCRIPT.test(file) || hasTypeScriptLoader()) return []
  try {
    return ['--import', pathToFileURL(createRequire(file).resolve('tsx')).href]
  } catch {
    // no tsx in the project: Node's own type stripping, where it has it
  }
  if ((process.features as { typescript?: unknown }).typescript) return []
  const [major = 0, minor = 0] = nodeVersion.split('.').map(Number)
  if (major > 22 || (major === 22 && minor >= 6)) return ['--experimental-strip-types']
  throw new Error(
    `is TypeScript, and Node ${nodeVersion} cannot load it by itself: install tsx in the project (npm install -D tsx), ` +
      'run on Node 22.6 or later (type stripping), or give the compiled JavaScript file',
  )
}
