import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import type { PythonMarker } from './markers.js'
import { execFile } from 'node:child_process'
import { basename } from 'node:path'
import { promisify } from 'node:util'
import { ServerCoverageError } from '../../errors.js'
import { CONVERTER } from './files.js'

const execFileAsync = promisify(execFile)

/** What python/to_istanbul.py prints. */
export interface ConverterOutput {
  python: string
  version: [number, number]
  coverage: string
  processes: number
  files: Record<string, FileCoverageData>
  totals: { statements: number; covered: number; branches: number; covered_branches: number; decorator_branches: number; decorator_covered: number; files: number }
  skipped?: string[]
  error?: 'NO_DATA'
}

/**
 * The Python that reads the data: the one that ran the server, so its Coverage.py reads its own
 * files. `sys.executable` is that Python for gunicorn and plain Python; inside uWSGI it is the
 * uWSGI binary, so the interpreter of the embedded Python's prefix is used
 * (`<prefix>/bin/python3.11`). `SERVER_COVERAGE_PYTHON` overrides both.
 */
export function converterPython(marker: PythonMarker, override: string | undefined): string {
  if (override) return override
  if (/^python[\d.]*$/.test(basename(marker.executable))) return marker.executable
  return `${marker.prefix}/bin/python${marker.version[0]}.${marker.version[1]}`
}

/** Fails when the converting Python is not the server's (another version or Coverage.py release). */
export function checkSamePython(marker: PythonMarker, output: Pick<ConverterOutput, 'python' | 'version' | 'coverage'>, python: string): void {
  const sameVersion = marker.version[0] === output.version[0] && marker.version[1] === output.version[1]
  if (sameVersion && (!marker.coverage || marker.coverage === output.coverage)) return
  throw new ServerCoverageError(
    'INVALID_OPTION',
    `server-coverage: Python version mismatch: the server ran Python ${marker.python} with Coverage.py ${marker.coverage ?? '?'}, ` +
      `but ${python} is Python ${output.python} with Coverage.py ${output.coverage}, which may not read that data correctly. ` +
      'Set SERVER_COVERAGE_PYTHON (in the `env` option) to the Python that runs the server.',
  )
}

/** Runs the converter over one server's data folder and returns its parsed output. */
export async function runConverter(python: string, args: { configFile: string; dataDir: string; combinedFile: string; cwd: string }): Promise<ConverterOutput> {
  let stdout: string
  try {
    ;({ stdout } = await execFileAsync(python, [CONVERTER, args.configFile, args.dataDir, args.combinedFile, args.cwd], {
      cwd: args.cwd,
      maxBuffer: 512 * 1024 * 1024,
      timeout: 120_000,
      // The converter must not measure itself, nor load our sitecustomize.
      env: { ...process.env, PYTHONPATH: '', SERVER_COVERAGE_SOCKET: '' },
    }))
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' | ') ?? String(error)
    throw new ServerCoverageError(
      'INVALID_OPTION',
      `server-coverage: could not read the Python coverage data with ${python}: ${detail}. ` +
        'Coverage.py must be importable by that Python; set SERVER_COVERAGE_PYTHON (in the `env` option) to the Python that runs the server.',
      { cause: error },
    )
  }
  return JSON.parse(stdout) as ConverterOutput
}

/** Keeps the files `accepts` takes. */
export function filterFiles(files: Record<string, FileCoverageData>, accepts: (path: string) => boolean): CoverageMapData {
  const data: CoverageMapData = {}
  for (const [path, fileCoverage] of Object.entries(files)) if (accepts(path)) data[path] = fileCoverage
  return data
}
