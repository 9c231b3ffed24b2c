import { dirname, isAbsolute, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import picomatch from 'picomatch'

// THE rule for which server files are reported, written once; every front end calls
// `reportFilter` and passes only its runner's own predicate:
//
// 1. Never: files under `node_modules`, and our own package (agent, host, Python hook).
// 2. A server that gives `include`/`exclude` decides for its own files with those globs, matched
//    relative to its `cwd` (as Vitest and c8 match theirs); files outside `cwd` count only when an
//    include glob names them.
// 3. Otherwise the runner decides (Vitest's `coverage.include/exclude`, Jest's
//    `collectCoverageFrom`/`coveragePathIgnorePatterns`), when the front end has one.
// 4. Otherwise every file under the server's `cwd`.
//
// Non-`file:` scripts (Node internals, `eval`) never reach the filter: readers drop them.

/** Which server files end up in the report, applied before and after source-map remapping. */
export interface ReportFilter {
  /** Whether a reported (remapped, absolute) file belongs in the report. */
  accepts: (path: string) => boolean
  /** The early filter for executed scripts: a script with a source map is kept until its sources are known. */
  script: (path: string, hasSourceMap: boolean) => boolean
}

/** What the rule needs to know about one server. */
export interface ServerScope {
  cwd: string
  include: readonly string[] | undefined
  exclude: readonly string[] | undefined
}

/** The root of this package: `dist/coverage/filter.js` → the package folder. */
const PACKAGE_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))))
const OWN_DIRS = ['dist', 'python', 'jest', 'bin'].map((dir) => `${PACKAGE_ROOT}${sep}${dir}${sep}`)

/** Rule 1: paths that are never reported. */
export function neverReported(path: string): boolean {
  return path.split(sep).includes('node_modules') || OWN_DIRS.some((dir) => path.startsWith(dir))
}

/**
 * A predicate from include/exclude globs, matched against the path relative to `root`. Files
 * outside `root` match only when an include glob names them by absolute path.
 */
export function globPredicate(root: string, include: readonly string[] | undefined, exclude: readonly string[] | undefined): (path: string) => boolean {
  const isMatch = picomatch(include?.length ? [...include] : ['**'], { dot: true, ignore: [...(exclude ?? [])] })
  return (path) => {
    const rel = relative(root, path)
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return Boolean(include?.length) && isMatch(path)
    return isMatch(rel.split(sep).join('/'))
  }
}

/** The report filter of one server, with the runner's predicate (rule 3) when the front end has one. */
export function reportFilter(server: ServerScope, runner?: (path: string) => boolean): ReportFilter {
  const own = server.include !== undefined || server.exclude !== undefined
  const decides = own || !runner ? globPredicate(server.cwd, server.include, server.exclude) : runner
  const accepts = (path: string): boolean => !neverReported(path) && decides(path)
  return { accepts, script: (path, hasSourceMap) => !neverReported(path) && (hasSourceMap || decides(path)) }
}
