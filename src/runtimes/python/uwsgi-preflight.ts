import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { ServerCoverageError } from '../../errors.js'
import { commandWords } from './files.js'

/** Runs `program args` with stdin closed (uWSGI waits on an open stdin pipe), resolving its output. */
function outputOf(program: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string | undefined> {
  return new Promise((done) => {
    let text = ''
    const child = spawn(program, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
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

/**
 * The plugins a uWSGI binary has loaded with `args` (`uwsgi [--plugin …] --plugins-list`): the
 * built-in ones with no args (none on Debian's modular build). Undefined when uWSGI cannot be run;
 * `failed` lists what uWSGI said it could not load.
 */
export async function loadedUwsgiPlugins(program: string, cwd: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ names: string[]; failed: string[] } | undefined> {
  // Without the server's UWSGI_* options: what the binary has by itself, plus `args` (and no
  // `http`/`ini` from the environment that would make this probe start a server).
  const probeEnv = Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('UWSGI_')))
  const text = await outputOf(program, [...args, '--plugins-list'], cwd, probeEnv, 10_000)
  if (text === undefined) return undefined
  const start = text.indexOf('*** uWSGI loaded generic plugins ***')
  const end = text.indexOf('--- end of plugins list ---')
  if (start === -1 || end === -1) return undefined
  const names = text
    .slice(start, end)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('***'))
    .map((line) => line.split(/\s+/).pop() ?? '')
  const failed = [...text.matchAll(/UNABLE to load uWSGI plugin: ([^\n]*?) !!!/g)].map((match) => match[1] ?? '')
  return { names, failed }
}

const isPython = (name: string): boolean => /^python[\d.]*$/.test(name)
const pluginName = (name: string): string => name.replace(/_plugin\.so$/, '').replace(/^.*\//, '')

/**
 * The plugins uWSGI needs that neither its binary nor the ini (nor `UWSGI_PLUGINS` in the
 * environment) provides: `python3` to run the app (and our hook), `http` when the ini asks for an
 * `http =` router (without it a modular uWSGI silently ignores the key and never listens). The
 * session adds them as `UWSGI_PLUGINS`, which uWSGI applies like a `plugins` line, so the ini stays
 * untouched. Fails early, with the fix, when they are not installed at all (a modular uWSGI without
 * `uwsgi-plugin-python3`): that would otherwise surface as an obscure timeout.
 */
export async function uwsgiPluginsToAdd(command: string, cwd: string, baseEnv: Record<string, string | undefined>): Promise<string[]> {
  const program = commandWords(command)[0] ?? 'uwsgi'
  const builtin = await loadedUwsgiPlugins(program, cwd, baseEnv)
  if (builtin === undefined) return [] // not found or unreadable: the launcher reports a missing command
  const setup = await readUwsgiSetup(command, cwd)
  const fromEnv = (baseEnv.UWSGI_PLUGINS ?? '').split(/[\s,]+/).filter(Boolean)
  const available = [...builtin.names, ...setup.declared, ...fromEnv].map(pluginName)
  const missing: string[] = []
  if (setup.usesHttpRouter && !available.includes('http')) missing.push('http')
  if (!available.some(isPython)) missing.push('python3')
  if (missing.length === 0) return []
  const probe = await loadedUwsgiPlugins(program, cwd, baseEnv, ['--plugin', missing.join(',')])
  const loaded = probe?.names ?? []
  const unavailable = missing.filter((name) => !(name === 'python3' ? loaded.some(isPython) : loaded.includes(name)))
  if (unavailable.length > 0) {
    throw new ServerCoverageError(
      'COVERAGE_UNAVAILABLE',
      `the \`command\` option "${command}" starts a uWSGI without its ${unavailable.join(' and ')} plugin ` +
        `(built in: ${builtin.names.join(', ') || 'none'}; declared: ${setup.declared.join(', ') || 'none'}; ` +
        `and it could not load ${unavailable.join(', ')}${probe?.failed.length ? `: ${probe.failed.join('; ')}` : ''}), so it cannot run the app. ` +
        'Install it (Debian: `apt-get install uwsgi-plugin-python3`; `http` comes with `uwsgi-core`), or use a uWSGI built with Python (`pip install uwsgi`).',
    )
  }
  return missing
}
