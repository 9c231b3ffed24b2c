import type { FileCoverageData } from 'istanbul-lib-coverage'
import type { PythonMarker } from './markers.js'
import { spawn } from 'node:child_process'
import { basename } from 'node:path'
import { ServerCoverageError } from '../../errors.js'
import { CONVERTER } from './files.js'

/** How long the converter may take for one read (large apps: thousands of files). */
const CONVERTER_TIMEOUT_MS = 120_000

/** A file the converter could not use, and why. */
export interface ConverterProblem {
  file: string
  error: string
}

/** What python/to_istanbul.py prints. */
export interface ConverterOutput {
  python: string
  version: [number, number]
  coverage: string
  files: Record<string, FileCoverageData>
  /** Coverage.py's own numbers for this read (what `coverage report` says), and the decorator branches we leave out. */
  totals: { statements: number; covered: number; branches: number; covered_branches: number; decorator_branches: number; decorator_covered: number; files: number }
  /** Measured files that could not be analysed (not the non-Python ones: those are skipped silently). */
  skipped: ConverterProblem[]
  /** Data files that could not be read. */
  corrupt: ConverterProblem[]
}

/** Where the converting Python came from: the `python` option, or the server's own Python. */
export interface ConverterPython {
  path: string
  fromOption: boolean
}

/**
 * The Python that reads the data: the one that ran the server, so its Coverage.py reads its own
 * files. `sys.executable` is that Python for gunicorn and plain Python; inside uWSGI it is the
 * uWSGI binary, so the interpreter of the embedded Python's prefix is used
 * (`<prefix>/bin/python3.11`). The `python` option overrides both.
 */
export function converterPython(marker: PythonMarker, option: string | undefined): ConverterPython {
  if (option) return { path: option, fromOption: true }
  if (/^python[\d.]*$/.test(basename(marker.executable))) return { path: marker.executable, fromOption: false }
  return { path: `${marker.prefix}/bin/python${marker.version[0]}.${marker.version[1]}`, fromOption: false }
}

/** Fails when the converting Python is not the server's (another version or Coverage.py release). */
export function checkSamePython(marker: PythonMarker, output: Pick<ConverterOutput, 'python' | 'version' | 'coverage'>, python: ConverterPython): void {
  const sameVersion = marker.version[0] === output.version[0] && marker.version[1] === output.version[1]
  if (sameVersion && (!marker.coverage || marker.coverage === output.coverage)) return
  throw new ServerCoverageError(
    python.fromOption ? 'INVALID_OPTION' : 'COVERAGE_UNAVAILABLE',
    `Python version mismatch: the server ran Python ${marker.python} with Coverage.py ${marker.coverage ?? '?'}, ` +
      `but ${python.path}${python.fromOption ? ' (the `python` option)' : ''} is Python ${output.python} with Coverage.py ${output.coverage}, ` +
      'which may not read that data correctly. Set the `python` option to the Python that runs the server.',
  )
}

/** Runs `python args` with `input` on stdin; resolves its stdout, rejects with its stderr. */
function run(python: string, args: string[], input: string, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // The converter must not measure itself, nor load our sitecustomize.
    const env = { ...process.env, PYTHONPATH: '', SERVER_COVERAGE_SOCKET: '' }
    const child = spawn(python, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] })
    const stdout: Buffer[] = []
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), CONVERTER_TIMEOUT_MS)
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(Object.assign(error, { stderr: error.message }))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'))
      else reject(Object.assign(new Error(`exited with ${signal ?? `code ${code}`}`), { stderr: stderr || `exited with ${signal ?? `code ${code}`}` }))
    })
    child.stdin.on('error', () => {}) // it may exit before reading (not found, broken install)
    child.stdin.end(input)
  })
}

/** Converts the given data files (one read) with python/to_istanbul.py and returns its parsed output. */
export async function runConverter(python: ConverterPython, args: { configFile: string; cwd: string; files: string[] }): Promise<ConverterOutput> {
  let stdout: string
  try {
    stdout = await run(python.path, [CONVERTER, args.configFile, args.cwd], JSON.stringify(args.files), args.cwd)
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' | ') ?? String(error)
    throw new ServerCoverageError(
      python.fromOption ? 'INVALID_OPTION' : 'COVERAGE_UNAVAILABLE',
      `could not read the Python coverage data with ${python.path}${python.fromOption ? ' (the `python` option)' : ''}: ${detail}. ` +
        'Coverage.py must be importable by that Python; set the `python` option to the Python that runs the server.',
      { cause: error },
    )
  }
  return JSON.parse(stdout) as ConverterOutput
}
