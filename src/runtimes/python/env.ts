import type { PythonPaths } from './config.js'
import type { PythonServerKind } from './files.js'

/** What makes the session's SIGTERM stop uWSGI (2.0 reloads on it): needed with coverage off too. */
export const UWSGI_STOP_ENV: Readonly<Record<string, string>> = { UWSGI_DIE_ON_TERM: '1', UWSGI_MASTER: '1' }

/** What the injected environment needs to know about one server. */
export interface PythonEnvInput {
  kind: PythonServerKind
  paths: PythonPaths
  /** The control socket every process registers with. */
  socketPath: string
  /** The shipped `python/` folder and its uWSGI hook. */
  pythonDir: string
  uwsgiHook: string
  /** The env the server would get without us (`process.env` + the `env` option). */
  baseEnv: Record<string, string | undefined>
}

/**
 * The environment that puts Coverage.py into a Python server without touching its files:
 *
 * - uWSGI reads `UWSGI_<OPTION>` variables, which only *add* options the ini leaves out:
 *   `shared-import` runs our hook in the master before the app is imported; `die-on-term` makes
 *   the session's SIGTERM a stop (uWSGI 2.0 reloads on SIGTERM); `master` gives a process that
 *   outlives workers and runs the stop; `enable-threads` lets our per-worker control thread run
 *   (without it uWSGI keeps the GIL while idle); `need-app` turns an app that fails to import into
 *   a failed start with its traceback (instead of a server answering 500 until the timeout);
 *   `skip-atexit-teardown` skips `Py_Finalize` after `uwsgi.atexit` (where we save): with a core
 *   thread still in accept, finalisation was seen spinning in the garbage collector until SIGKILL.
 * - every other Python (gunicorn, uvicorn, hypercorn, Django, plain Python) imports `sitecustomize`
 *   at startup: ours goes first on `PYTHONPATH` and runs any `sitecustomize` it shadows. Processes
 *   the server starts inherit the variable, so spawned interpreters (uvicorn's `--workers`,
 *   Django's autoreloader child) load it too. (A gunicorn `--config` in `GUNICORN_CMD_ARGS` would
 *   replace the user's own `gunicorn.conf.py`, which gunicorn loads by default.)
 */
export function pythonEnv(input: PythonEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    SERVER_COVERAGE_SOCKET: input.socketPath,
    SERVER_COVERAGE_PY_CONFIG: input.paths.configFile,
    SERVER_COVERAGE_PY_STATE: input.paths.stateDir,
    SERVER_COVERAGE_PY_READY: input.paths.readyDir,
  }
  if (input.kind === 'uwsgi') {
    Object.assign(env, {
      UWSGI_SHARED_IMPORT: input.uwsgiHook,
      ...UWSGI_STOP_ENV,
      UWSGI_ENABLE_THREADS: '1',
      UWSGI_NEED_APP: '1',
      UWSGI_SKIP_ATEXIT_TEARDOWN: '1',
    })
  } else {
    const existing = input.baseEnv.PYTHONPATH
    env.PYTHONPATH = existing ? `${input.pythonDir}:${existing}` : input.pythonDir
  }
  return env
}
