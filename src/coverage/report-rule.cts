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
 * picomatch is loaded only to compile globs; the agent gets them compiled (see `compileGlobs`).
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
  /** `include`/`exclude` compiled by `compileGlobs` (the agent gets them so: no picomatch in every server process). */
  compiled?: CompiledGlobs
}

/** One glob as picomatch compiles it: plain data, so it crosses the process boundary in the environment. */
interface CompiledGlob {
  glob: string
  source: string
  flags: string
}

/** A server's include/exclude globs, compiled. */
interface CompiledGlobs {
  include: CompiledGlob[]
  exclude: CompiledGlob[]
  /** Whether include globs were given (only then do files outside `cwd` count). */
  named: boolean
}

/** The root of this package: `dist/coverage/report-rule.cjs` → the package folder. */
const PACKAGE_ROOT = path.dirname(path.dirname(__dirname))
const OWN_DIRS = ['dist', 'python', 'jest', 'bin'].map((dir) => `${PACKAGE_ROOT}${path.sep}${dir}${path.sep}`)

/** Rule 1: paths that are never reported. */
function neverReported(file: string): boolean {
  return file.split(path.sep).includes('node_modules') || OWN_DIRS.some((dir) => file.startsWith(dir))
}

/**
 * Compiles include/exclude globs with picomatch (`dot: true`) into regular expressions. Matching
 * them (`compiledPredicate`) is picomatch's own test: the input equal to the glob, or the glob's
 * regular expression matching it; excluded when an exclude glob matches (picomatch's `ignore`).
 * Loading picomatch costs every process that does it ~4 ms at start-up, so the collector compiles
 * and the agent only matches.
 */
function compileGlobs(include: readonly string[] | undefined, exclude: readonly string[] | undefined): CompiledGlobs {
  const picomatch = require('picomatch') as typeof import('picomatch')
  const compile = (glob: string): CompiledGlob => {
    const regex = picomatch.makeRe(glob, { dot: true })
    return { glob, source: regex.source, flags: regex.flags }
  }
  return { include: (include?.length ? [...include] : ['**']).map(compile), exclude: [...(exclude ?? [])].map(compile), named: Boolean(include?.length) }
}

/**
 * A predicate from compiled include/exclude globs, matched against the path relative to `root`.
 * Files outside `root` match only when an include glob names them by absolute path.
 */
function compiledPredicate(root: string, globs: CompiledGlobs): (path: string) => boolean {
  const matcher = (list: CompiledGlob[]): ((input: string) => boolean) => {
    const tests = list.map(({ glob, source, flags }) => ({ glob, regex: new RegExp(source, flags) }))
    return (input) => tests.some(({ glob, regex }) => input === glob || regex.test(input))
  }
  const included = matcher(globs.include)
  const excluded = matcher(globs.exclude)
  const isMatch = (input: string): boolean => input !== '' && included(input) && !excluded(input)
  return (file) => {
    const rel = path.relative(root, file)
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return globs.named && isMatch(file)
    return isMatch(rel.split(path.sep).join('/'))
  }
}

/** A predicate from include/exclude globs, relative to `root` (files outside it only when an include glob names them). */
function globPredicate(root: string, include: readonly string[] | undefined, exclude: readonly string[] | undefined): (path: string) => boolean {
  return compiledPredicate(root, compileGlobs(include, exclude))
}

/** The report filter of one server, with the runner's predicate (rule 3) when the front end has one. */
function reportFilter(server: ServerScope, runner?: (path: string) => boolean): ReportFilter {
  const own = server.include !== undefined || server.exclude !== undefined
  const decides = own || !runner ? compiledPredicate(server.cwd, server.compiled ?? compileGlobs(server.include, server.exclude)) : runner
  const accepts = (file: string): boolean => !neverReported(file) && decides(file)
  return { accepts, script: (file, hasSourceMap) => !neverReported(file) && (hasSourceMap || decides(file)) }
}

export = { neverReported, compileGlobs, globPredicate, reportFilter }
