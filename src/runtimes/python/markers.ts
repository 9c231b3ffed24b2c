import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ServerCoverageError } from '../../errors.js'

/** What a server process wrote about itself (`<kind>-<pid>.json`, see python/_server_coverage_agent.py). */
export interface PythonMarker {
  /** `exited`: it saved on its way out (a process that disconnected without one was killed). */
  kind: 'started' | 'worker' | 'exited' | 'error'
  pid: number
  /** When it was written (ms since epoch). */
  at: number
  python: string
  version: [number, number]
  executable: string
  prefix: string
  host?: string
  coverage?: string
  tracer?: string
  code?: string
  message?: string
}

/** Reads every marker in the state folder (a marker being written is skipped: written by rename). */
export async function readMarkers(stateDir: string): Promise<PythonMarker[]> {
  const markers: PythonMarker[] = []
  for (const name of await readdir(stateDir).catch(() => [] as string[])) {
    const match = /^(started|worker|exited|error)-\d+\.json$/.exec(name)
    if (!match) continue
    try {
      markers.push({ ...(JSON.parse(await readFile(join(stateDir, name), 'utf8')) as PythonMarker), kind: match[1] as PythonMarker['kind'] })
    } catch {
      // vanished or half-written: the next read sees it
    }
  }
  return markers
}

/** Waits until `ready` accepts the markers, or the deadline; returns the last markers read. */
export async function waitForMarkers(stateDir: string, ready: (markers: PythonMarker[]) => boolean, timeoutMs: number): Promise<PythonMarker[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const markers = await readMarkers(stateDir)
    if (ready(markers) || Date.now() >= deadline) return markers
    await sleep(50)
  }
}

function describePython(marker: PythonMarker): string {
  return `Python ${marker.python} (${marker.executable}, prefix ${marker.prefix})`
}

/**
 * Turns what the markers say into a clear error, or nothing when coverage is on. uWSGI swallows a
 * failing `shared-import` (it only logs it) and serves without coverage, so "no marker" is an error.
 */
export function checkMarkers(markers: PythonMarker[], command: string, kind: string, needsWorkers: boolean): void {
  const error = markers.find((marker) => marker.kind === 'error')
  if (error?.code === 'COVERAGE_MISSING') {
    throw new ServerCoverageError(
      'COVERAGE_UNAVAILABLE',
      `the \`command\` option "${command}" runs ${describePython(error)}, which cannot import Coverage.py ` +
        `(${error.message}). Install it for that Python (Debian: \`apt-get install python3-coverage\`; otherwise \`pip install coverage\`), ` +
        'or run the server with a Python that has it.',
    )
  }
  if (error) {
    throw new ServerCoverageError(
      'COVERAGE_UNAVAILABLE',
      `Coverage.py could not start in "${command}" (${describePython(error)}): ${error.message}. ` +
        'Check the Coverage.py install of that Python.',
    )
  }
  if (!markers.some((marker) => marker.kind === 'started')) {
    const why =
      kind === 'uwsgi'
        ? 'uWSGI did not run the UWSGI_SHARED_IMPORT hook (it only logs such failures): is this a uWSGI with Python (`plugins = python3`), and does the environment reach it?'
        : 'Python did not import our sitecustomize from PYTHONPATH: the command may replace PYTHONPATH, run Python with -S/-I, or start something that is not Python.'
    throw new ServerCoverageError(
      'COVERAGE_UNAVAILABLE',
      `the coverage hook never loaded in "${command}" (\`runtime: 'python'\`), so nothing would be measured. ${why} ` +
        "Set `runtime: 'node'` if it is not a Python server.",
    )
  }
  if (needsWorkers && !markers.some((marker) => marker.kind === 'worker')) {
    throw new ServerCoverageError(
      'COVERAGE_UNAVAILABLE',
      `no uWSGI worker of "${command}" started the coverage agent after fork. ` +
        'The app may replace `uwsgi.post_fork_hook` instead of chaining it; chain the previous hook (or use uwsgidecorators.postfork).',
    )
  }
}
