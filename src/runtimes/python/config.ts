import type { ResolvedServerOptions } from '../../options.js'
import { isAbsolute, resolve } from 'node:path'

/**
 * The folders Coverage.py measures: the server's cwd, plus the fixed base folder of each include
 * glob that points outside it (`../lib/**` → `../lib`). The include/exclude globs themselves are
 * applied to the converted data, like for Node servers; `source` only bounds what is traced.
 */
export function sourceDirs(options: Pick<ResolvedServerOptions, 'cwd' | 'include'>): string[] {
  const dirs = new Set([options.cwd])
  for (const glob of options.include ?? []) {
    const base = glob.split('/').findIndex((part) => /[*?[\]{}!]/.test(part))
    const fixed = (base === -1 ? glob.split('/').slice(0, -1) : glob.split('/').slice(0, base)).join('/')
    if (!fixed) continue
    const dir = isAbsolute(fixed) ? fixed : resolve(options.cwd, fixed)
    if (!dir.startsWith(options.cwd + '/')) dirs.add(dir)
  }
  return [...dirs]
}

/** Where one server's Python data lives inside its private folder. */
export interface PythonDataPaths {
  /** The parallel data files' base: each process writes `<dataFile>.<host>.<pid>.<random>`. */
  dataFile: string
  /** Where the converter writes the combined data (separate, so it never matches `.coverage.*`). */
  combinedFile: string
}

/**
 * The Coverage.py configuration (`.coveragerc` text) for one server:
 * - `parallel`: one data file per process (without it every forked worker overwrites `.coverage`);
 * - `branch`: arcs, which become istanbul branches;
 * - `source`: the app's folders; third-party code is never measured — Coverage.py 6.5 does not
 *   recognise Debian's `dist-packages` as third-party, so both package folders are omitted, and so
 *   are `node_modules` and our own Python files.
 */
export function coveragerc(sources: string[], paths: PythonDataPaths, pythonDir: string): string {
  const list = (items: string[]): string => items.map((item) => `\n    ${item}`).join('')
  return [
    '[run]',
    'branch = True',
    'parallel = True',
    `data_file = ${paths.dataFile}`,
    `source =${list(sources)}`,
    `omit =${list(['*/dist-packages/*', '*/site-packages/*', '*/node_modules/*', `${pythonDir}/*`])}`,
    // The master and short-lived helper processes collect nothing: that is not worth a warning on
    // the server's stderr.
    'disable_warnings = no-data-collected, module-not-measured, module-not-imported, couldnt-parse',
    '',
  ].join('\n')
}
