import type { ScriptFilter } from './read.js'
import { isAbsolute, relative, sep } from 'node:path'
import picomatch from 'picomatch'

/** Which server files end up in the report, applied before and after source-map remapping. */
export interface FileFilter {
  /** Whether a reported (remapped) file belongs in the report. */
  accepts: (path: string) => boolean
  /** The early filter for executed scripts: a script with a source map is kept until its sources are known. */
  script: ScriptFilter
}

/**
 * Builds a filter from a predicate over reported files. Paths under `ignoreDirs` (our own agent
 * and host) and under `node_modules` never count, whatever the predicate says.
 */
export function createFileFilter(isIncluded: (path: string) => boolean, ignoreDirs: string[]): FileFilter {
  const ignored = (path: string): boolean =>
    ignoreDirs.some((dir) => path.startsWith(dir + sep)) || path.split(sep).includes('node_modules')
  const accepts = (path: string): boolean => !ignored(path) && isIncluded(path)
  return { accepts, script: (path, hasSourceMap) => !ignored(path) && (hasSourceMap || isIncluded(path)) }
}

/**
 * The default predicate from include/exclude globs, matched against the path relative to `root`
 * (as Vitest and c8 do). Files outside `root` count only when an include glob names them.
 */
export function globPredicate(root: string, include: string[] | undefined, exclude: string[] | undefined): (path: string) => boolean {
  const isMatch = picomatch(include?.length ? include : ['**'], { dot: true, ignore: exclude ?? [] })
  return (path) => {
    const rel = relative(root, path)
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return Boolean(include?.length) && isMatch(path)
    return isMatch(rel.split(sep).join('/'))
  }
}
