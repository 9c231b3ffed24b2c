import type { CoverageMapData, FileCoverageData, Range } from 'istanbul-lib-coverage'
import { readFileSync } from 'node:fs'
import { addByLocation } from '../../coverage/merge-into.js'

/** What adding server data to a test file's istanbul data did, for the messages. */
export interface BabelInjection {
  added: number
  /** Files the tests ran too, whose server hits were added onto the tests' statement map. */
  shared: string[]
  /** Shared files the tests ran through a transpiler: only the tests' data is kept. */
  keptTestSide: string[]
  /** Shared files where some covered server locations had no counterpart in the tests' map. */
  unmatched: Map<string, number>
}

function ranges(file: FileCoverageData): Range[] {
  return [
    ...Object.values(file.statementMap),
    ...Object.values(file.fnMap).flatMap((fn) => [fn.decl, fn.loc]),
    ...Object.values(file.branchMap).flatMap((branch) => [branch.loc, ...branch.locations]),
  ].filter((range): range is Range => range != null)
}

/** True for the end columns ast-v8-to-istanbul leaves open (`Infinity`; `null` once through JSON). */
const openEnd = (column: number | null | undefined): boolean => column == null || !Number.isFinite(column)

/**
 * Closes open end columns. ast-v8-to-istanbul ends a node that ends a line at `Infinity`, where
 * babel-plugin-istanbul writes the real column; istanbul merges by `line:col-line:col`, so each
 * such statement would otherwise count twice. With the tests' map we take its column for the
 * same start and end line; without, the line's length.
 */
function closeEndColumns(file: FileCoverageData, like: FileCoverageData | undefined): void {
  const known = new Map<string, number>()
  if (like) for (const range of ranges(like)) known.set(`${range.start.line}:${range.start.column}-${range.end.line}`, range.end.column)
  let lines: string[] | undefined
  for (const range of ranges(file)) {
    if (!openEnd(range.end.column)) continue
    const column = known.get(`${range.start.line}:${range.start.column}-${range.end.line}`)
    if (column !== undefined) {
      range.end.column = column
      continue
    }
    try {
      lines ??= readFileSync(file.path, 'utf8').split('\n')
      range.end.column = (lines[range.end.line - 1] ?? '').replace(/\r$/, '').length
    } catch {
      // The source is gone: leave the column open, istanbul's reports cope with it.
    }
  }
}

/** An empty copy of the tests' map of a file: same ids and locations, no hits. */
function emptyLike(tests: FileCoverageData): FileCoverageData {
  const zero = <T>(hits: Record<string, T>, value: (hit: T) => T): Record<string, T> =>
    Object.fromEntries(Object.entries(hits).map(([id, hit]) => [id, value(hit)]))
  return {
    path: tests.path,
    statementMap: structuredClone(tests.statementMap),
    fnMap: structuredClone(tests.fnMap),
    branchMap: structuredClone(tests.branchMap),
    s: zero(tests.s, () => 0),
    f: zero(tests.f, () => 0),
    b: zero(tests.b, (hits) => hits.map(() => 0)),
  }
}

/**
 * Adds the server's istanbul data (babel provider) to the last test file's `testResult.coverage`,
 * which Jest's CoverageReporter then merges into its map. A file only the server ran is added as
 * it is. A file the tests ran too (`testMaps`: the first map the tests produced for it) gets the
 * server's hits translated onto the tests' own statement map, so Jest's merge adds hits and
 * never a second copy of a statement. When the tests ran the file through a transpiler (their
 * data carries an `inputSourceMap`) the two maps cannot line up: the tests' side is kept.
 */
export function injectIstanbul(target: CoverageMapData, serverData: CoverageMapData, testMaps: ReadonlyMap<string, FileCoverageData>): BabelInjection {
  const injection: BabelInjection = { added: 0, shared: [], keptTestSide: [], unmatched: new Map() }
  for (const [file, data] of Object.entries(serverData)) {
    const server = data as FileCoverageData
    const tests = testMaps.get(file)
    if (!tests) {
      closeEndColumns(server, undefined)
      target[file] = server
      injection.added += 1
      continue
    }
    if ((tests as { inputSourceMap?: unknown }).inputSourceMap) {
      injection.keptTestSide.push(file)
      continue
    }
    closeEndColumns(server, tests)
    const onTestsMap = emptyLike(tests)
    const unmatched = addByLocation(onTestsMap, server)
    if (unmatched > 0) injection.unmatched.set(file, unmatched)
    const existing = target[file] as FileCoverageData | undefined
    if (existing) addByLocation(existing, onTestsMap)
    else target[file] = onTestsMap
    injection.shared.push(file)
    injection.added += 1
  }
  return injection
}
