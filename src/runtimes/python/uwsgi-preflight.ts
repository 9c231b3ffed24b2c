import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { ServerCoverageError } from '../../errors.js'
import { commandWords } from './files.js'

/** Runs `program args` with stdin closed (uWSGI waits on an open stdin pipe), resolving its output. */
function outputOf(program: string, args: string[], cwd: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((done) => {
    let text = ''
    const child = spawn(program, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
    child.on('error', () => done(undefined))
    child.on('close', () => {
      clearTimeout(timer)
      done(text)
    })
  })
}

/** The plugins and options of a uWSGI command that matter to us. */
export interface UwsgiSetup {
  /** Plugins named by `plugin`/`plugins` in the ini or on the command line. */
  declared: string[]
  /** Whether an `http` router is asked for (needs the `http` plugin on modular builds). */
  usesHttpRouter: boolean
}

/** Reads `plugins`/`plugin` and `http` from the command line and its `--ini` file (`[uwsgi]` section). */
export async function readUwsgiSetup(command: string, cwd: string): Promise<UwsgiSetup> {
  const words = commandWords(command)
  const setup: UwsgiSetup = { declared: [], usesHttpRouter: false }
  const add = (key: string, value: string): void => {
    if (key === 'plugin' || key === 'plugins') setup.declared.push(...value.split(/[\s,]+/).filter(Boolean))
    if (key === 'http') setup.usesHttpRouter = true
  }
  for (let i = 1; i < words.length; i++) {
    const match = /^--?([\w-]+)(?:=(.*))?$/.exec(words[i] ?? '')
    if (match) add(match[1] ?? '', match[2] ?? words[i + 1] ?? '')
  }
  const ini = words.find((_word, i) => words[i - 1] === '--ini') ?? words.find((word) => word.startsWith('--ini='))?.slice(6) ?? words.slice(1).find((word) => word.endsWith('.ini'))
  if (ini) {
    let text = ''
    try {
      text = await readFile(resolve(cwd, ini), 'utf8')
    } catch {
      return setup // uWSGI will say why it cannot read it
    }
    let inSection = false
    for (const line of text.split('\n')) {
      const section = /^\s*\[([^\]]+)\]/.exec(line)
      if (section) inSection = section[1]?.trim() === 'uwsgi'
      const entry = /^\s*([\w-]+)\s*=\s*(.*?)\s*$/.exec(line)
      if (inSection && entry) add(entry[1] ?? '', entry[2] ?? '')
    }
  }
  return setup
}

/** Plugins compiled into the uWSGI binary (`uwsgi --plugins-list`); empty on Debian's modular build. */
export async function builtinUwsgiPlugins(program: string, cwd: string): Promise<string[] | undefined> {
  const text = await outputOf(program, ['--plugins-list'], cwd, 10_000)
  if (text === undefined) return undefined
  const start = text.indexOf('*** uWSGI loaded generic plugins ***')
  const end = text.indexOf('--- end of plugins list ---')
  if (start === -1 || end === -1) return undefined
  return text
    .slice(start, end)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('***'))
    .map((line) => line.split(/\s+/).pop() ?? '')
}

/**
 * Fails early, with the fix, when uWSGI cannot run Python or the `http` router: a modular uWSGI
 * (Debian's) without `plugins = python3` never runs our hook, and without `http` it silently ignores
 * the `http =` key and never listens — both would otherwise surface as an obscure timeout.
 */
export async function checkUwsgiPlugins(command: string, cwd: string): Promise<void> {
  const program = commandWords(command)[0] ?? 'uwsgi'
  const builtin = await builtinUwsgiPlugins(program, cwd)
  if (builtin === undefined) return // not found or unreadable: the launcher reports a missing command
  const setup = await readUwsgiSetup(command, cwd)
  const available = [...builtin, ...setup.declared].map((name) => name.replace(/_plugin\.so$/, '').replace(/^.*\//, ''))
  const hint = 'Add `plugins = http,python3` to the ini (Debian: `apt-get install uwsgi-plugin-python3`), or use a uWSGI built with Python (`pip install uwsgi`).'
  if (!available.some((name) => /^python[\d.]*$/.test(name))) {
    throw new ServerCoverageError(
      'INVALID_OPTION',
      `server-coverage: the \`command\` option "${command}" starts a uWSGI without its Python plugin ` +
        `(built in: ${builtin.join(', ') || 'none'}; declared: ${setup.declared.join(', ') || 'none'}), so it cannot run a Python app under Coverage.py. ${hint}`,
    )
  }
  if (setup.usesHttpRouter && !available.includes('http')) {
    throw new ServerCoverageError(
      'INVALID_OPTION',
      `server-coverage: the \`command\` option "${command}" asks for \`http =\` but uWSGI has no \`http\` plugin ` +
        `(declared: ${setup.declared.join(', ')}): it would silently ignore the key and never listen. ${hint}`,
    )
  }
}
