/**
 * Which files counting on load instruments: the server files a report can contain, decided by the
 * same rule as src/coverage/filter.ts (`reportFilter`), on the agent's side of the process
 * boundary (the agent is CommonJS and runs on Node 20, which cannot `require` that ES module):
 *
 * - never files under `node_modules`, nor our own package;
 * - with the server's `include`/`exclude`: the files they select, matched relative to its `cwd`
 *   (outside the `cwd` only when an include glob names them by absolute path);
 * - without them: every other file. The runner's own include/exclude (rule 3 of filter.ts) is
 *   applied by the collector when it reads, as for V8's data, so instrumenting the superset
 *   reports exactly the files the V8 route reports.
 *
 * picomatch (a dependency) is loaded only with globs to match.
 */
import path = require('node:path')

/** What the runtime passes in the environment (`SERVER_COVERAGE_SCOPE`, JSON). */
interface CountingScope {
  cwd: string
  include?: string[]
  exclude?: string[]
}

/** dist/agent/scope.cjs → the package folder. */
const PACKAGE_ROOT = path.dirname(path.dirname(__dirname))
const OWN_DIRS = ['dist', 'python', 'jest', 'bin'].map((dir) => `${PACKAGE_ROOT}${path.sep}${dir}${path.sep}`)

/**
 * Builds the predicate for absolute file paths from the scope the runtime passed
 * (`SERVER_COVERAGE_SCOPE`). A file with a source map is counted whatever the globs say, as
 * `reportFilter().script` keeps it: the globs apply to its sources, after remapping.
 */
function countedFiles(scopeJson: string | undefined): (file: string, hasSourceMap: boolean) => boolean {
  const scope = JSON.parse(scopeJson ?? '{}') as Partial<CountingScope>
  const cwd = scope.cwd ?? process.cwd()
  const never = (file: string): boolean => file.split(path.sep).includes('node_modules') || OWN_DIRS.some((dir) => file.startsWith(dir))
  if (scope.include === undefined && scope.exclude === undefined) return (file) => !never(file)
  const picomatch = require('picomatch') as typeof import('picomatch')
  const include = scope.include?.length ? scope.include : ['**']
  const isMatch = picomatch(include, { dot: true, ignore: scope.exclude ?? [] })
  return (file, hasSourceMap) => {
    if (never(file)) return false
    if (hasSourceMap) return true
    const rel = path.relative(cwd, file)
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return Boolean(scope.include?.length) && isMatch(file)
    return isMatch(rel.split(path.sep).join('/'))
  }
}

export = { countedFiles }
