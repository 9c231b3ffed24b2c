import type { ResolvedServerOptions } from '../../options.js'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import picomatch from 'picomatch'

/**
 * The folders Coverage.py measures (its `source`): the fixed base folder of each of the server's
 * `include` globs, relative to its cwd (`src/**\/*.py` → `<cwd>/src`, `../lib/**` → `<cwd>/../lib`,
 * `app.py` → `<cwd>`), else the server's cwd. The globs themselves (and `exclude`) are applied to
 * the converted data by the report filter; `source` only bounds what is traced, so tracing stays
 * off code that is never reported.
 */
export function sourceDirs(options: Pick<ResolvedServerOptions, 'cwd' | 'include'>): string[] {
  const bases = (options.include ?? [])
    .filter((glob) => !glob.startsWith('!'))
    .map((glob) => {
      const scan = picomatch.scan(glob)
      const base = scan.isGlob ? scan.base : dirname(scan.base)
      return resolve(options.cwd, base)
    })
  if (bases.length === 0) return [options.cwd]
  const unique = [...new Set(bases)].sort()
  // A folder inside another listed folder is measured already.
  return unique.filter((dir) => !unique.some((other) => other !== dir && isInside(dir, other)))
}

function isInside(dir: string, parent: string): boolean {
  const rel = relative(parent, dir)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}

/** Where one server's Python data lives inside its private folder. */
export interface PythonPaths {
  /** The Coverage.py config we write for the server. */
  configFile: string
  /** Markers the server processes write about themselves (started, worker, exited, error). */
  stateDir: string
  /** Coverage.py's `data_file` base: each process collects into `<dataFile>.<host>.<pid>.<random>`. */
  dataFile: string
  /** Where each save moves its finished file; every file here is complete and read once. */
  readyDir: string
}

/** The folders and files of the Python runtime under the server's private folder. */
export function pythonPaths(dir: string): PythonPaths {
  const root = join(dir, 'python')
  return {
    configFile: join(root, 'coveragerc'),
    stateDir: join(root, 'state'),
    dataFile: join(root, 'data', '.coverage'),
    readyDir: join(root, 'ready'),
  }
}

/**
 * The Coverage.py configuration (`.coveragerc` text) for one server:
 * - `parallel`: one data file per process (without it every forked worker overwrites `.coverage`);
 * - `branch`: arcs, which become istanbul branches;
 * - `source`: the app's folders; third-party code is never measured — Coverage.py 6.5 does not
 *   recognise Debian's `dist-packages` as third-party, so both package folders are omitted, and so
 *   are `node_modules` and our own Python files.
 */
export function coveragerc(sources: string[], dataFile: string, pythonDir: string): string {
  const list = (items: string[]): string => items.map((item) => `\n    ${item}`).join('')
  return [
    '[run]',
    'branch = True',
    'parallel = True',
    `data_file = ${dataFile}`,
    `source =${list(sources)}`,
    `omit =${list(['*/dist-packages/*', '*/site-packages/*', '*/node_modules/*', `${pythonDir}/*`])}`,
    // The master and short-lived helper processes collect nothing: that is not worth a warning on
    // the server's stderr.
    'disable_warnings = no-data-collected, module-not-measured, module-not-imported, couldnt-parse',
    '',
  ].join('\n')
}
