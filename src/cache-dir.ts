import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'

// Where server-coverage keeps what it can reuse across processes and runs (the agents' instrumented
// code, the converter's plans), written once: every cache asks here.

/** Overrides the cache folder (a CI cache path, a RAM disk); `''` or unset: the default below. */
export const CACHE_DIR_ENV = 'SERVER_COVERAGE_CACHE_DIR'

/** Entries not written for this long are removed (a hit only reads: an entry in use is rewritten after an edit or an upgrade). */
export const CACHE_ENTRY_MAX_AGE_MS = 30 * 24 * 3600_000
/** A temp file this old was left by a process killed while writing. */
const TEMP_MAX_AGE_MS = 3600_000

const isFolder = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * The cache folder for a project at `from`: `$SERVER_COVERAGE_CACHE_DIR`, else, like nyc's and
 * babel's, `node_modules/.cache/server-coverage` in the nearest folder up from `from` that has a
 * `node_modules` (a workspace package caches at the workspace root, where Node finds its packages).
 * Undefined when there is none: we never create a `node_modules` in a user's project.
 */
export function cacheRoot(from: string): string | undefined {
  const override = process.env[CACHE_DIR_ENV]
  if (override) return override
  for (let dir = from; ; dir = dirname(dir)) {
    if (isFolder(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'server-coverage')
    if (dirname(dir) === dir) return undefined
  }
}

/**
 * Makes `dir` (private, 0700: it holds the project's code; the shared `.cache` above it keeps its
 * mode) and removes its stale entries, or returns false when it cannot: a cache only saves time.
 */
export function prepareCacheDir(dir: string): boolean {
  try {
    mkdirSync(dirname(dir), { recursive: true })
    try {
      mkdirSync(dir, { mode: 0o700 })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    if (!isFolder(dir)) return false
    pruneCache(dir)
    return true
  } catch {
    return false
  }
}

/**
 * Keeps a cache bounded: entries are keyed by file path or URL, so files that moved and temp
 * folders that are gone (test fixtures, CI checkouts at new paths) would otherwise stay forever.
 * Once per session and folder; an entry removed while in use is only made again.
 */
function pruneCache(dir: string): void {
  const now = Date.now()
  for (const name of readdirSync(dir)) {
    const maxAge = name.endsWith('.tmp') ? TEMP_MAX_AGE_MS : name.endsWith('.cache') || name.endsWith('.plan') ? CACHE_ENTRY_MAX_AGE_MS : undefined
    if (maxAge === undefined) continue
    const file = join(dir, name)
    try {
      if (now - statSync(file).mtimeMs > maxAge) rmSync(file, { force: true })
    } catch {
      // gone already, or not ours to remove
    }
  }
}
