import type { ReadRequest, Runtime, RuntimeFactory, RuntimeRead } from '../types.js'
import type { PythonMarker } from './markers.js'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ServerCoverageError } from '../../errors.js'
import { plural } from '../../messages.js'
import { coveragerc, pythonPaths, sourceDirs } from './config.js'
import { DataFiles, countProcesses } from './data-files.js'
import { UWSGI_STOP_ENV, pythonEnv } from './env.js'
import { PYTHON_DIR, UWSGI_HOOK, serverKind } from './files.js'
import { lostProcessMessages } from './lost.js'
import { checkMarkers, readMarkers, waitForMarkers } from './markers.js'
import { commandNotes } from './notes.js'
import { checkSamePython, converterPython, runConverter } from './read.js'
import { uwsgiPluginsToAdd } from './uwsgi-preflight.js'

/** How long verify() waits for the hook's markers once the server answers (they are written before it listens). */
const MARKER_WAIT_MS = 5000
/**
 * Test-only: a folder that receives a copy of every data file a read consumed, so a test can run
 * `coverage combine` + `coverage report` on exactly the data we converted.
 */
const KEEP_DATA_ENV = 'SERVER_COVERAGE_PY_KEEP_DATA'

const EMPTY_READ: RuntimeRead = { coverage: { format: 'istanbul', data: {}, counts: 'hits' }, processes: 0, files: 0 }

/**
 * The Python runtime: uWSGI, gunicorn, uvicorn, hypercorn, Django and plain Python servers measured
 * with Coverage.py.
 *
 * - env: Coverage.py is injected without touching the app or its ini (see env.ts); a uWSGI ini
 *   without the plugins Debian's modular uWSGI needs gets them through `UWSGI_PLUGINS`; flags that
 *   matter to coverage (uvicorn's `--reload`) get a note;
 * - verify: the hook's markers prove Coverage.py started in the server (and, for uWSGI, in its
 *   workers), or say why not;
 * - read: every save of a process leaves a finished data file of its own (what it ran since its
 *   previous save), so a read converts the files it has not read before — what ran since the
 *   previous read — with the server's own Python (python/to_istanbul.py).
 */
export const createPythonRuntime: RuntimeFactory = async ({ options, dir, socketPath, coverage, log }) => {
  const command = options.command ?? ''
  const kind = serverKind(command)
  const baseEnv = { ...process.env, ...options.env }
  const env: Record<string, string> = {}
  if (kind === 'uwsgi') {
    const plugins = await uwsgiPluginsToAdd(command, options.cwd, baseEnv)
    if (plugins.length > 0) {
      env.UWSGI_PLUGINS = [baseEnv.UWSGI_PLUGINS, ...plugins].filter(Boolean).join(',')
      log(`uWSGI: adding the ${plugins.join(' and ')} plugin${plugins.length === 1 ? '' : 's'} the ini does not load (UWSGI_PLUGINS=${env.UWSGI_PLUGINS}; the ini is unchanged)`)
    }
  }
  if (!coverage) {
    if (kind === 'uwsgi') Object.assign(env, UWSGI_STOP_ENV)
    return { env, verify: async () => {}, read: async () => EMPTY_READ }
  }

  for (const note of commandNotes(command)) log(note)
  const paths = pythonPaths(dir)
  for (const folder of [paths.stateDir, dirname(paths.dataFile), paths.readyDir]) await mkdir(folder, { recursive: true, mode: 0o700 })
  await writeFile(paths.configFile, coveragerc(sourceDirs(options), paths.dataFile, PYTHON_DIR))
  if (kind === 'uwsgi' && baseEnv.UWSGI_SHARED_IMPORT) {
    log(`UWSGI_SHARED_IMPORT=${baseEnv.UWSGI_SHARED_IMPORT} in the environment is replaced by our coverage hook; declare it in the ini instead (\`shared-import = …\`).`)
  }
  Object.assign(env, pythonEnv({ kind, paths, socketPath, pythonDir: PYTHON_DIR, uwsgiHook: UWSGI_HOOK, baseEnv }))

  const dataFiles = new DataFiles(paths.readyDir, dirname(paths.dataFile))
  const reported = new Set<string>()
  const lostReported = new Set<number>()
  let readAny = false
  let reading: Promise<unknown> = Promise.resolve()

  /** Names what could not be used, once per file. */
  const sayOnce = (file: string, line: string): void => {
    if (reported.has(file)) return
    reported.add(file)
    log(line)
  }

  /**
   * Processes that disconnected while the server ran without saving on their way out: killed (the
   * OOM killer, `kill -9`), their data since their last save lost. Not after the stop: uWSGI skips
   * a worker's exit hooks when the stop finds it inside a request (it runs them for idle workers
   * only), which loses what it ran after the session's last flush — the stop's own business
   * (`gracefulShutdown`), not a process that died.
   */
  const reportLost = async (request: ReadRequest): Promise<void> => {
    if (request.final) return
    // Who is gone first, then the markers: a process writes its marker before its socket closes.
    const gone = request.agents.filter((agent) => !agent.connected).map((agent) => ({ ...agent }))
    const exited = new Set((await readMarkers(paths.stateDir)).filter((marker) => marker.kind === 'exited').map((marker) => marker.pid))
    const lastSaveAt = (pid: number): number => dataFiles.lastSaveAt.get(pid) ?? 0
    for (const line of lostProcessMessages(options.name, gone, exited, lastSaveAt, lostReported)) log(line)
  }

  const readOnce = async (request: ReadRequest): Promise<RuntimeRead> => {
    const started = (await readMarkers(paths.stateDir)).find((marker) => marker.kind === 'started')
    if (!started) return EMPTY_READ
    const files = await dataFiles.pending(request.final)
    if (files.length === 0) {
      if (request.final && !readAny) {
        throw new ServerCoverageError(
          'COVERAGE_UNAVAILABLE',
          `"${command}" saved no Coverage.py data: its processes never answered a flush nor saved at exit. ` +
            'Make sure the server was not SIGKILLed and that its workers run our control thread (for uWSGI, `enable-threads` must not be disabled).',
        )
      }
      await reportLost(request)
      return EMPTY_READ
    }
    const python = converterPython(started, options.python)
    const output = await runConverter(python, { configFile: paths.configFile, cwd: options.cwd, files: files.map((file) => file.path) })
    checkSamePython(started, output, python)
    await dataFiles.done(files, process.env[KEEP_DATA_ENV])
    readAny = true
    await reportLost(request)
    for (const { file, error } of output.corrupt) sayOnce(file, `skipped an unreadable Coverage.py data file of "${options.name}" (${error}): ${file}`)
    for (const { file, error } of output.skipped) sayOnce(file, `could not convert ${file} (${error}); left out of the report`)
    const data = Object.fromEntries(Object.entries(output.files).filter(([path]) => request.filter.accepts(path)))
    // Coverage.py's own numbers for this read (what `coverage report` would print for these files).
    const t = output.totals
    log(
      `Coverage.py (Python ${output.python}, ${plural(files.length, 'data file')}): ${t.covered}/${t.statements} statements, ` +
        `${t.covered_branches}/${t.branches} branches in ${plural(t.files, 'file')} (${t.decorator_branches} decorator branches, ${t.decorator_covered} covered, left out)`,
    )
    // Coverage.py records whether a line ran, not how often: 0/1 counts that combine as "ran in any".
    return { coverage: { format: 'istanbul', data, counts: 'hits' }, processes: countProcesses(files), files: files.length }
  }

  const runtime: Runtime = {
    env,
    async verify() {
      const ready = (markers: PythonMarker[]): boolean =>
        markers.some((marker) => marker.kind === 'error') ||
        (markers.some((marker) => marker.kind === 'started') && (kind !== 'uwsgi' || markers.some((marker) => marker.kind === 'worker')))
      const markers = await waitForMarkers(paths.stateDir, ready, MARKER_WAIT_MS)
      checkMarkers(markers, command, kind, kind === 'uwsgi')
      const started = markers.find((marker) => marker.kind === 'started')
      const workers = markers.filter((marker) => marker.kind === 'worker').length
      log(
        `Coverage.py ${started?.coverage} (${started?.tracer}) on Python ${started?.python} in "${command}"` +
          (kind === 'uwsgi' ? ` (${plural(workers, 'uWSGI worker')} so far)` : ''),
      )
      if (started?.tracer === 'PyTracer') log('Coverage.py runs its slow Python tracer (its C extension did not load for this Python): expect a slower server.')
    },
    read(request) {
      // One read at a time: a file must be handed out once.
      const result = reading.then(() => readOnce(request))
      reading = result.catch(() => {})
      return result
    },
  }
  return runtime
}
