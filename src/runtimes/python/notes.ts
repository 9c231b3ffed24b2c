import { basename } from 'node:path'
import { commandWords } from './files.js'

/** Whether the command starts uvicorn: its script (`uvicorn …`) or `python -m uvicorn …`. */
function startsUvicorn(words: string[]): boolean {
  if (basename(words[0] ?? '') === 'uvicorn') return true
  const module = words.indexOf('-m')
  return module > 0 && words[module + 1] === 'uvicorn'
}

/**
 * What a Python server's own flags do to its coverage, said once when it starts: uvicorn's
 * `--reload` (its reloader runs the app in a child process it replaces on every change of a watched
 * file). Coverage still reaches every process — each replacement saves on its way out, and the new
 * one starts measured — so it is a note, not an error: Django's `runserver` autoreloader works the
 * same way and is measured the same way.
 */
export function commandNotes(command: string): string[] {
  const words = commandWords(command)
  if (!startsUvicorn(words) || !words.includes('--reload')) return []
  return [
    `"${command}" runs uvicorn with --reload: the app runs in a child process that uvicorn replaces whenever a watched file changes. ` +
      'Each replacement imports the app again (its import-time lines count again) and fails the requests made meanwhile, ' +
      "coverage recorded before an edit is reported on the edited file's lines, and --workers is ignored (one process). " +
      'For a test run, drop --reload (and give --workers N for several processes).',
  ]
}
