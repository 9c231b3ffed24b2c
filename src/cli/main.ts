import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { PathMapping } from './data-file.js'
import type { Thresholds } from '../report/thresholds.js'
import { parseArgs } from 'node:util'
import { mergeCoverageData } from '../coverage/merge-map.js'
import { loadConfigFile } from '../config-file.js'
import { ServerCoverageError } from '../errors.js'
import { METRICS, checkThresholds } from '../report/thresholds.js'
import { loadCoverage, writeCoverageJson } from './data-file.js'
import { parseReporters, writeReports } from '../report/write.js'
import { run } from './run.js'
import { SERVER_FLAGS, serverOptionsFromFlags } from './server-flags.js'

const HELP: Record<string, string> = {
  main: `server-coverage: boot your real server under coverage, run any test command, report.

Usage:
  server-coverage run [options] -- <test command...>   boot the server(s), run the tests with SERVER_URL set, stop, report
  server-coverage report [--reporter text,html,...] [--reports-dir coverage] [<input>]
  server-coverage merge <dir|coverage-final.json...> --out coverage/coverage-final.json [--path-map from=to]
  server-coverage check [--lines N] [--branches N] [--functions N] [--statements N] [--per-file] [<input>]

Run "server-coverage <command> --help" for a command's options.
Exit codes: the test command's (run), 1 when a check threshold fails, 2 for a usage error.`,
  run: `server-coverage run [options] -- <test command...>

Boots the server(s) under coverage, runs the test command with SERVER_URL (and SERVER_URL_<NAME>)
set, stops the servers, and writes their coverage. Exits with the test command's exit code.

Server options (or --config):
  --command <cmd>                 command that starts the server ({port} is replaced)
  --app <module>                  a module exporting an http handler / Express / Koa / Fastify app, hosted by our cluster
  --workers <n>                   workers for --app (default 2)
  --url <url|/path>               readiness probe, must answer 2xx/3xx (default: TCP connect)
  --port <n>                      port (default: a free one), passed as PORT
  --cwd <dir>                     working directory of the server
  --env KEY=VALUE                 extra environment (repeatable)
  --timeout <ms>                  readiness deadline (default 30000)
  --graceful-shutdown-signal <s>  SIGTERM (default), SIGINT or SIGHUP
  --graceful-shutdown-timeout <ms>  SIGKILL after this (default 5000)
  --include <glob>, --exclude <glob>  which server files are reported (repeatable, relative to --cwd)
  --runtime node|python           default: inferred from the command
  --name <name>                   key of SERVER_URL_<NAME>
  --show-output                   show the server's stdout/stderr
  --config <file>                 server options from a file (default: server-coverage.config.* or package.json "serverCoverage")

Output options:
  --merge-into <coverage-final.json>  add the server coverage to a report another tool wrote
  --data-dir <dir>                save the server data (portable) for a later merge/report
  --reporter <list>               reports to write (default text,json; "none" for none)
  --reports-dir <dir>             where reports go (default coverage)`,
  report: `server-coverage report [--reporter text,html,lcov,json,json-summary,cobertura] [--reports-dir coverage] [<input>]

Writes reports from saved data: <input> is a --data-dir folder, a server-coverage.json or a
coverage-final.json (default coverage/coverage-final.json). --path-map from=to rewrites paths.`,
  merge: `server-coverage merge <dir|coverage-final.json...> --out coverage/coverage-final.json [--path-map from=to]

Merges saved server data and istanbul reports (e.g. CI shards) into one coverage-final.json. Files
present in several inputs are merged by location, never counted twice. --path-map from=to
(repeatable) rewrites path prefixes of data produced in another checkout.`,
  check: `server-coverage check [--lines N] [--branches N] [--functions N] [--statements N] [--per-file] [<input>]

Checks coverage percentages of <input> (default coverage/coverage-final.json), globally or per file.
Exits 1 and lists what failed when a threshold is not met.`,
}

class UsageError extends Error {}

function pathMappings(values: string[] | undefined): PathMapping[] {
  return (values ?? []).map((value) => {
    const equals = value.indexOf('=')
    if (equals <= 0) throw new UsageError(`expected the \`--path-map\` option as FROM=TO, got \`${value}\``)
    return { from: value.slice(0, equals), to: value.slice(equals + 1) }
  })
}

type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>
type OptionsConfig = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>

function parse(args: string[], options: OptionsConfig, allowPositionals: boolean): { values: ParsedValues; positionals: string[] } {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

async function runCommand(args: string[], root: string): Promise<number> {
  const separator = args.indexOf('--')
  const own = separator === -1 ? args : args.slice(0, separator)
  const testCommand = separator === -1 ? [] : args.slice(separator + 1)
  const { values } = parse(own, {
    ...SERVER_FLAGS,
    config: { type: 'string' },
    'merge-into': { type: 'string' },
    'data-dir': { type: 'string' },
    reporter: { type: 'string' },
    'reports-dir': { type: 'string' },
  }, false)
  if (values.help) return help('run')
  if (testCommand.length === 0) throw new UsageError('give the test command after `--`, e.g. `server-coverage run --command "node server.js" -- npm test`')
  const fromFlags = serverOptionsFromFlags(values as Parameters<typeof serverOptionsFromFlags>[0])
  const configured = fromFlags === undefined ? await loadConfigFile(root, values.config as string | undefined) : undefined
  if (fromFlags !== undefined && values.config) throw new UsageError('give either server flags (--command/--app) or --config, not both')
  const servers = fromFlags ?? configured?.options
  if (servers === undefined) {
    throw new UsageError('no server to start: give `--command "<cmd>"` or `--app <module>`, or a server-coverage.config.* file (or --config)')
  }
  const reporter = (values.reporter as string | undefined) ?? 'text,json'
  return run({
    servers,
    testCommand,
    root,
    mergeInto: values['merge-into'] as string | undefined,
    dataDir: values['data-dir'] as string | undefined,
    reporters: reporter === 'none' ? [] : parseReporters(reporter),
    reportsDir: (values['reports-dir'] as string | undefined) ?? 'coverage',
  })
}

async function reportCommand(args: string[], root: string): Promise<number> {
  const { values, positionals } = parse(args, { reporter: { type: 'string' }, 'reports-dir': { type: 'string' }, 'path-map': { type: 'string', multiple: true } }, true)
  if (values.help) return help('report')
  const data = await loadCoverage(positionals[0] ?? 'coverage/coverage-final.json', root, pathMappings(values['path-map'] as string[] | undefined))
  writeReports(data, parseReporters((values.reporter as string | undefined) ?? 'text'), (values['reports-dir'] as string | undefined) ?? 'coverage', root)
  return 0
}

async function mergeCommand(args: string[], root: string): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string' }, 'path-map': { type: 'string', multiple: true } }, true)
  if (values.help) return help('merge')
  if (positionals.length === 0) throw new UsageError('give the folders or coverage-final.json files to merge')
  if (!values.out) throw new UsageError('give `--out <file>`, e.g. `--out coverage/coverage-final.json`')
  const mappings = pathMappings(values['path-map'] as string[] | undefined)
  const merged: CoverageMapData = {}
  for (const input of positionals) {
    const unmatched = mergeCoverageData(merged, await loadCoverage(input, root, mappings))
    for (const [file, count] of unmatched) process.stderr.write(`server-coverage: ${input}: ${count} covered location(s) of ${file} did not line up with the other inputs' map; left out\n`)
  }
  await writeCoverageJson(values.out as string, merged)
  process.stderr.write(`server-coverage: merged ${positionals.length} input(s), ${Object.keys(merged).length} files, into ${values.out}\n`)
  return 0
}

async function checkCommand(args: string[], root: string): Promise<number> {
  const { values, positionals } = parse(args, {
    lines: { type: 'string' }, branches: { type: 'string' }, functions: { type: 'string' }, statements: { type: 'string' },
    'per-file': { type: 'boolean' }, 'path-map': { type: 'string', multiple: true },
  }, true)
  if (values.help) return help('check')
  const thresholds: Thresholds = {}
  for (const metric of METRICS) {
    const value = values[metric] as string | undefined
    if (value === undefined) continue
    const number = Number(value)
    if (!Number.isFinite(number) || number < 0 || number > 100) throw new UsageError(`expected the \`--${metric}\` option to be a percentage from 0 to 100, got \`${value}\``)
    thresholds[metric] = number
  }
  if (Object.keys(thresholds).length === 0) throw new UsageError('give at least one of --lines, --branches, --functions, --statements')
  const input = positionals[0] ?? 'coverage/coverage-final.json'
  const failures = checkThresholds(await loadCoverage(input, root, pathMappings(values['path-map'] as string[] | undefined)), thresholds, Boolean(values['per-file']))
  for (const { scope, metric, actual, wanted } of failures) {
    process.stderr.write(`server-coverage: ${metric} coverage of ${scope} is ${actual}%, below the ${wanted}% threshold\n`)
  }
  if (failures.length === 0) process.stderr.write(`server-coverage: ${input} meets every threshold\n`)
  return failures.length === 0 ? 0 : 1
}

function help(command: string): number {
  process.stdout.write(`${HELP[command]}\n`)
  return 0
}

const COMMANDS: Record<string, (args: string[], root: string) => Promise<number>> = {
  run: runCommand,
  report: reportCommand,
  merge: mergeCommand,
  check: checkCommand,
}

/** The CLI: resolves with the exit code; never calls `process.exit`. */
export async function main(argv: string[], root = process.cwd()): Promise<number> {
  const [command, ...args] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return help('main')
  const handler = COMMANDS[command]
  try {
    if (!handler) throw new UsageError(`unknown command \`${command}\``)
    return await handler(args, root)
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`server-coverage: ${error.message}. See \`server-coverage ${handler ? `${command} ` : ''}--help\`.\n`)
      return 2
    }
    if (error instanceof ServerCoverageError) {
      process.stderr.write(`${error.message}\n`)
      return error.code === 'INVALID_OPTION' ? 2 : 1
    }
    throw error
  }
}
