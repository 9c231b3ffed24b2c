import rule from './report-rule.cjs'

// Which server files are reported: the rule lives in ./report-rule.cts (CommonJS, so the agent's
// counting on load runs the same code); this is its ES-module face for the collector's side.

/** Which server files end up in the report, applied before and after source-map remapping. */
export type ReportFilter = ReturnType<typeof rule.reportFilter>
/** What the rule needs to know about one server. */
export type ServerScope = Parameters<typeof rule.reportFilter>[0]

/** Rule 1: paths that are never reported. */
export const neverReported: (path: string) => boolean = rule.neverReported
/** Include/exclude globs compiled for `ServerScope.compiled` (what the agent gets: it matches without picomatch). */
export const compileGlobs: typeof rule.compileGlobs = rule.compileGlobs
/** A predicate from include/exclude globs, relative to `root` (files outside it only when an include glob names them). */
export const globPredicate: (root: string, include: readonly string[] | undefined, exclude: readonly string[] | undefined) => (path: string) => boolean = rule.globPredicate
/** The report filter of one server, with the runner's predicate (rule 3) when the front end has one. */
export const reportFilter: (server: ServerScope, runner?: (path: string) => boolean) => ReportFilter = rule.reportFilter
