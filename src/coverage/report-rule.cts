/**
 * THE rule for which server files are reported, written once. CommonJS so that both sides of the
 * process boundary run the same code: the collector (through ./filter.ts, which every front end
 * calls, passing only its runner's own predicate) and the agent's counting on load
 * (../agent/scope.cts, which instruments exactly the files the rule can report; the agent is
 * CommonJS and Node 20 cannot `require` an ES module).
 *
 * 1. Never: files under `node_modules`, and our own package (agent, host, Python hook).
 * 2. A server that gives `include`/`exclude` decides for its own files with those globs, matched
 *    relative to its `cwd` (as Vitest and c8 match theirs); files outside `cwd` count only when an
 *    include glob names them.
 * 3. Otherwise the runner decides (Vitest's `coverage.include/exclude`, Jest's
 *    `collectCoverageFrom`/`coveragePathIgnorePatterns`), when the front end has one.
 * 4. Otherwise every file under the server's `cwd`.
 *
 * Non-`file:` scripts (Node internals, `eval`) never reach the filter: readers drop them.
 * picomatch is loaded only when there are globs to match (the agent loads this file at start-up).
 */
import path = require('node:path')

/** Which server files end up in the report, applied before and after source-map remapping. */
interface ReportFilter {
  /** Whether a reported (remapped, absolute) file belongs in the report. */
  accepts: (path: string) => boolean
  /** The early filter for executed scripts: a script with a source map is kept until its sources are known. */
  script: (path: string, hasSourceMap: boolean) => boolean
}

/** What the rule needs to know about one server. */
interface ServerScope {
  cwd: string
  include: readonly string[] | undefined
  exclude: readonly string[] | undefined
}

/** The root of this package: `dist/coverage/report-rule.cjs` → the package folder. */
const PACKAGE_ROOT = path.dirname(path.dirname(__dirname))
const OWN_DIRS = ['dist', 'python', 'jest', 'bin'].map((dir) => `${PACKAGE_ROOT}${path.sep}${dir}${path.sep}`)

/** Rule 1: paths that are never reported. */
function neverReported(file: string): boolean {
  return file.split(path.sep).includes('node_modules') || OWN_DIRS.some((dir) => file.startsWith(dir))
}

/**
 * A predicate from include/exclude globs, matched against the path relative to `root`. Files
 * outside `root` match only when an include glob names them by absolute path.
 */
function globPredicate(root: string, include: readonly string[] | undefined, exclude: readonly string[] | undefined): (path: string) => boolean {
  const picomatch = require('picomatch') as typeof import('picomatch')
  const isMatch = picomatch(include?.length ? [...include] : ['**'], { dot: true, ignore: [...(exclude ?? [])] })
  return (file) => {
    const rel = path.relative(root, file)
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return Boolean(include?.length) && isMatch(file)
    return isMatch(rel.split(path.sep).join('/'))
  }
}

/** The report filter of one server, with the runner's predicate (rule 3) when the front end has one. */
function reportFilter(server: ServerScope, runner?: (path: string) => boolean): ReportFilter {
  const own = server.include !== undefined || server.exclude !== undefined
  const decides = own || !runner ? globPredicate(server.cwd, server.include, server.exclude) : runner
  const accepts = (file: string): boolean => !neverReported(file) && decides(file)
  return { accepts, script: (file, hasSourceMap) => !neverReported(file) && (hasSourceMap || decides(file)) }
}

export = { neverReported, globPredicate, reportFilter }
