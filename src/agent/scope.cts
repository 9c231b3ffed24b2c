/**
 * Which files counting on load instruments: exactly the server files the report rule
 * (../coverage/report-rule.cts, the same code the collector runs) can report. The runner's own
 * include/exclude (rule 3) is applied by the collector when it reads, as for V8's data, so a server
 * without globs of its own has every file instrumented that rule 1 does not exclude: the runner
 * is taken to say yes here.
 */
import rule = require('../coverage/report-rule.cjs')

/** What the runtime passes in the environment (`SERVER_COVERAGE_SCOPE`, JSON). */
interface CountingScope {
  cwd: string
  include?: string[]
  exclude?: string[]
  /** The globs compiled by the collector (`compileGlobs`): matching them needs no picomatch here. */
  compiled?: ReturnType<typeof rule.compileGlobs>
}

/**
 * The predicate for absolute file paths from the scope the runtime passed. A file with a source
 * map is counted whatever the globs say, as the report filter's script stage keeps it: the globs
 * apply to its sources, after remapping.
 */
function countedFiles(scopeJson: string | undefined): (file: string, hasSourceMap: boolean) => boolean {
  const scope = JSON.parse(scopeJson ?? '{}') as Partial<CountingScope>
  return rule.reportFilter({ cwd: scope.cwd ?? process.cwd(), include: scope.include, exclude: scope.exclude, ...(scope.compiled ? { compiled: scope.compiled } : {}) }, () => true).script
}

export = { countedFiles }
