import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The Python files we ship, in the package's top-level `python/` folder. Located from this module
 * (dist/runtimes/python/*.js), so they are found wherever the package is installed or linked.
 */
export const PYTHON_DIR = fileURLToPath(new URL('../../../python/', import.meta.url)).replace(/\/$/, '')
/** The uWSGI `shared-import` hook: starts Coverage.py in the master before the app loads. */
export const UWSGI_HOOK = `${PYTHON_DIR}/uwsgi_hook.py`
/** Converts the Coverage.py data of one server into istanbul data. */
export const CONVERTER = `${PYTHON_DIR}/to_istanbul.py`

/** How a Python server is started, which decides how Coverage.py gets into it. */
export type PythonServerKind = 'uwsgi' | 'gunicorn' | 'python'

/** The command's words, without leading `VAR=value` assignments (a best effort for shell commands). */
export function commandWords(command: string): string[] {
  const words = command.trim().split(/\s+/).filter(Boolean)
  const first = words.findIndex((word) => !/^\w+=/.test(word))
  return first === -1 ? [] : words.slice(first)
}

/** Which kind of Python server `command` starts: uWSGI, gunicorn, or anything else run by Python. */
export function serverKind(command: string): PythonServerKind {
  const program = basename(commandWords(command)[0] ?? '')
  if (program === 'uwsgi' || program === 'uwsgi-core') return 'uwsgi'
  if (program === 'gunicorn' || commandWords(command).slice(0, 3).join(' ').includes('-m gunicorn')) return 'gunicorn'
  return 'python'
}
