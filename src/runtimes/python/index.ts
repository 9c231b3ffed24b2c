import type { Runtime, RuntimeFactory, RuntimeRead } from '../types.js'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ServerCoverageError } from '../../errors.js'
import { coveragerc, sourceDirs } from './config.js'
import { UWSGI_STOP_ENV, pythonEnv } from './env.js'
import { PYTHON_DIR, UWSGI_HOOK, serverKind } from './files.js'
import { checkMarkers, readMarkers, waitForMarkers } from './markers.js'
import { checkSamePython, converterPython, filterFiles, runConverter } from './read.js'
import { checkUwsgiPlugins } from './uwsgi-preflight.js'

/** How long verify() waits for the hook's markers once the server answers (they are written before it listens). */
const MARKER_WAIT_MS = 5000

/**
 * The Python runtime: uWSGI, gunicorn and plain Python servers measured with Coverage.py.
 *
 * - env: Coverage.py is injected without touching the app or its ini (see env.ts), with one data
 *   file per process in the server's private folder;
 * - verify: the hook's markers prove Coverage.py started in the server (and, for uWSGI, in its
 *   workers), or say why not;
 * - read: every process saved on the session's flush round; the data is combined and converted by
 *   python/to_istanbul.py with the server's own Python. Coverage.py keeps 0/1 hits per process, so
 *   every read returns the server's **cumulative** coverage since it started (not a delta): each
 *   read combines all files afresh, so nothing is counted twice within one read.
 */
export const createPythonRuntime: RuntimeFactory = async ({ options, dir, log, coverage }) => {
  const command = options.command ?? ''
  const kind = serverKind(command)
  if (!coverage) {
    // Coverage off: no hook, but uWSGI must still stop (not reload) on the session's SIGTERM.
    return { env: kind === 'uwsgi' ? { ...UWSGI_STOP_ENV } : {}, verify: async () => {}, read: async () => ({ coverage: { format: 'istanbul', data: {} }, processes: 0, files: 0 }) }
  }
  const root = join(dir, 'python')
  const stateDir = join(root, 'state')
  const dataDir = join(root, 'data')
  await mkdir(stateDir, { recursive: true, mode: 0o700 })
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await mkdir(join(root, 'combined'), { recursive: true, mode: 0o700 })
  const paths = { dataFile: join(dataDir, '.coverage'), combinedFile: join(root, 'combined', '.coverage') }
  const configFile = join(root, 'coveragerc')
  await writeFile(configFile, coveragerc(sourceDirs(options), paths, PYTHON_DIR))
  if (kind === 'uwsgi') await checkUwsgiPlugins(command, options.cwd)

  const baseEnv = { ...process.env, ...options.env }
  if (kind === 'uwsgi' && baseEnv.UWSGI_SHARED_IMPORT) {
    log(`UWSGI_SHARED_IMPORT=${baseEnv.UWSGI_SHARED_IMPORT} in the environment is replaced by our coverage hook; declare it in the ini instead (\`shared-import = …\`).`)
  }
  const env = pythonEnv({ kind, configFile, stateDir, pythonDir: PYTHON_DIR, uwsgiHook: UWSGI_HOOK, baseEnv })
  const override = baseEnv.SERVER_COVERAGE_PYTHON

  const runtime: Runtime = {
    env,
    async verify() {
      const ready = (markers: { kind: string }[]): boolean =>
        markers.some((marker) => marker.kind === 'error') ||
        (markers.some((marker) => marker.kind === 'started') && (kind !== 'uwsgi' || markers.some((marker) => marker.kind === 'worker')))
      const markers = await waitForMarkers(stateDir, ready, MARKER_WAIT_MS)
      checkMarkers(markers, command, kind, kind === 'uwsgi')
      const started = markers.find((marker) => marker.kind === 'started')
      const workers = markers.filter((marker) => marker.kind === 'worker').length
      log(
        `Coverage.py ${started?.coverage} (${started?.tracer}) on Python ${started?.python} in "${command}"` +
          (kind === 'uwsgi' ? `, ${workers} uWSGI worker${workers === 1 ? '' : 's'} registered` : ''),
      )
      if (started?.tracer === 'PyTracer') log('Coverage.py runs its slow Python tracer (its C extension did not load for this Python): expect a slower server.')
    },
    async read({ final, filter }): Promise<RuntimeRead> {
      const accepts = filter.accepts
      const started = (await readMarkers(stateDir)).find((marker) => marker.kind === 'started')
      if (!started) return { coverage: { format: 'istanbul', data: {} }, processes: 0, files: 0 }
      const python = converterPython(started, override)
      const output = await runConverter(python, { configFile, dataDir, combinedFile: paths.combinedFile, cwd: options.cwd })
      checkSamePython(started, output, python)
      if (output.error === 'NO_DATA') {
        throw new ServerCoverageError(
          'INVALID_OPTION',
          `server-coverage: "${command}" saved no Coverage.py data${final ? '' : ' on the flush'} (No data to combine): ` +
            'its workers never saved. Make sure the server was not SIGKILLed and that its workers answer the control socket (for uWSGI, `enable-threads` must not be disabled).',
        )
      }
      for (const skipped of output.skipped ?? []) log(`could not convert ${skipped} (left out of the report)`)
      const data = filterFiles(output.files, accepts)
      const t = output.totals
      log(
        `Coverage.py (Python ${output.python}, ${output.processes} data file${output.processes === 1 ? '' : 's'}): ` +
          `${t.covered}/${t.statements} statements, ${t.covered_branches}/${t.branches} branches in ${t.files} files ` +
          `(${t.decorator_branches} decorator branches, ${t.decorator_covered} covered, left out); cumulative since the server started`,
      )
      return { coverage: { format: 'istanbul', data }, processes: output.processes, files: Object.keys(data).length }
    },
  }
  return runtime
}
