import { spawn } from 'node:child_process'
import { loadConfigFile } from '../../config-file.js'
import { planCommand } from '../../launch/command.js'
import { defaultLog as log } from '../../messages.js'
import { resolveServers } from '../../options.js'
import { openSession } from '../../open.js'
import { OUTPUT_FLAGS, OUTPUT_FLAGS_HELP, outputsFromFlags, writeOutputs } from '../outputs.js'
import { SERVER_FLAGS, SERVER_FLAGS_HELP, agentsFromFlags, serverOptionsFromFlags } from '../server-flags.js'
import { parse, stringFlag, UsageError } from '../usage.js'

export const RUN_HELP = `server-coverage run [options] -- <test command...>

Boots the server(s) under coverage, runs the test command with SERVER_URL (and SERVER_URL_<NAME>)
set, flushes and stops the servers, and writes their coverage. Exits with the test command's exit code.

${SERVER_FLAGS_HELP}

${OUTPUT_FLAGS_HELP}

Attach instead of starting (the servers keep running; the coverage since the attach is written):
  --attach <address>              a running \`server-coverage serve\` (or set SERVER_COVERAGE_ATTACH)`

/** `SERVER_URL` for the first server, `SERVER_URL_<NAME>` for each one by name. */
export function urlEnv(urls: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  const entries = Object.entries(urls)
  if (entries[0]) env.SERVER_URL = entries[0][1]
  for (const [name, url] of entries) env[`SERVER_URL_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = url
  return env
}

/** Runs the test command to its end; resolves with its exit code (128 + n when killed by a signal). */
function runTests(command: string[], env: Record<string, string>, onChild: (kill: (signal: NodeJS.Signals) => void) => void): Promise<number> {
  const plan = command.length === 1 ? planCommand(command[0]!) : { file: command[0]!, args: command.slice(1) }
  return new Promise((resolvePromise) => {
    const child = spawn(plan.file, plan.args, { stdio: 'inherit', env: { ...process.env, ...env } })
    onChild((signal) => child.kill(signal))
    child.once('error', (error) => {
      log(`could not run the test command "${command.join(' ')}": ${error.message}`)
      resolvePromise(127)
    })
    child.once('exit', (code, signal) => resolvePromise(code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGKILL' ? 9 : 15)))
  })
}

/**
 * Server options from flags, else from `--config`, else from the project's config file; an
 * `--agents` collector is added to them (or is the only entry).
 */
export async function serversFromArgs(values: Parameters<typeof serverOptionsFromFlags>[0], root: string): Promise<unknown> {
  const fromFlags = serverOptionsFromFlags(values)
  const agents = agentsFromFlags(values)
  if (fromFlags !== undefined && values.config) throw new UsageError('give either server flags (--command/--app) or --config, not both')
  const configured = fromFlags ?? (fromFlags === undefined && (agents === undefined || values.config) ? (await loadConfigFile(root, stringFlag(values, 'config')))?.options : undefined)
  if (configured === undefined && agents === undefined) {
    throw new UsageError('no server to start: give `--command "<cmd>"` or `--app <module>`, a server-coverage.config.* file (or --config), or `--agents <host:port>` for servers started elsewhere')
  }
  const list = configured === undefined ? [] : Array.isArray(configured) ? configured : [configured]
  return agents === undefined ? configured : [...list, agents]
}

/**
 * `server-coverage run`: boots the servers, runs the test command with their URLs, then flushes
 * and stops the servers and reads their coverage once (so what they ran while shutting down counts
 * too, and nothing is read twice), and writes it. Resolves with the test command's exit code.
 */
export async function runCommand(args: string[], root: string): Promise<number> {
  const separator = args.indexOf('--')
  const own = separator === -1 ? args : args.slice(0, separator)
  const testCommand = separator === -1 ? [] : args.slice(separator + 1)
  const { values } = parse(own, { ...SERVER_FLAGS, ...OUTPUT_FLAGS, config: { type: 'string' }, attach: { type: 'string' } }, false)
  if (values.help) {
    process.stdout.write(`${RUN_HELP}\n`)
    return 0
  }
  if (testCommand.length === 0) throw new UsageError('give the test command after `--`, e.g. `server-coverage run --command "node server.js" -- npm test`')
  const outputs = outputsFromFlags(values)
  // --attach, or SERVER_COVERAGE_ATTACH with no server given here: use a running serve.
  const attach = stringFlag(values, 'attach') ?? (process.env.SERVER_COVERAGE_ATTACH && serverOptionsFromFlags(values) === undefined && !values.config ? true : undefined)
  const servers = resolveServers(attach !== undefined ? { attach } : await serversFromArgs(values, root), root)
  const session = await openSession(servers, { root })
  let killTests: ((signal: NodeJS.Signals) => void) | undefined
  // Interrupted (Ctrl+C, CI cancel): pass it on to the tests; the servers are stopped below.
  const onSignal = (signal: NodeJS.Signals): void => killTests?.(signal)
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let exitCode: number
  let collected
  try {
    exitCode = await runTests(testCommand, urlEnv(session.urls), (kill) => (killTests = kill))
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    collected = await session.stop({ collect: true })
  }
  await writeOutputs(collected?.data ?? {}, outputs, root)
  return exitCode
}
