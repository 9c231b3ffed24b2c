import { ServerCoverageError, isUsageError } from '../errors.js'
import { PREFIX } from '../messages.js'
import { CHECK_HELP, checkCommand } from './commands/check.js'
import { MERGE_HELP, mergeCommand } from './commands/merge.js'
import { REPORT_HELP, reportCommand } from './commands/report.js'
import { RUN_HELP, runCommand } from './commands/run.js'
import { SERVE_HELP, serveCommand } from './commands/serve.js'
import { SNAPSHOT_HELP, STOP_HELP, snapshotCommand, stopCommand } from './commands/snapshot.js'
import { UsageError } from './usage.js'

const MAIN_HELP = `server-coverage: boot your real server under coverage, run any test command, report.

Usage:
  server-coverage run [options] -- <test command...>   boot the server(s), run the tests with SERVER_URL set, stop, report
  server-coverage report [--reporter text,html,...] [--reports-dir coverage] [<input>]
  server-coverage merge <dir|coverage-final.json...> --out coverage/coverage-final.json [--path-map from=to]
  server-coverage check [--lines N] [--branches N] [--functions N] [--statements N] [--per-file] [<input>]
  server-coverage serve [options]                      boot the server(s) and stay up; tests attach with SERVER_COVERAGE_ATTACH
  server-coverage snapshot [--reporter …]              the coverage of a running serve so far, nothing stops
  server-coverage stop [--reporter …]                  stop a running serve and write its final report

Run "server-coverage <command> --help" for a command's options.
Exit codes: the test command's (run), 1 when a check threshold fails or the servers fail,
2 for a usage error (a wrong flag, option or config file).`

const COMMANDS: Record<string, { run: (args: string[], root: string) => Promise<number>; help: string }> = {
  run: { run: runCommand, help: RUN_HELP },
  report: { run: reportCommand, help: REPORT_HELP },
  merge: { run: mergeCommand, help: MERGE_HELP },
  check: { run: checkCommand, help: CHECK_HELP },
  serve: { run: serveCommand, help: SERVE_HELP },
  snapshot: { run: snapshotCommand, help: SNAPSHOT_HELP },
  stop: { run: stopCommand, help: STOP_HELP },
}

/** The CLI: resolves with the exit code; never calls `process.exit`. */
export async function main(argv: string[], root = process.cwd()): Promise<number> {
  const [command, ...args] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${MAIN_HELP}\n`)
    return 0
  }
  const handler = COMMANDS[command]
  try {
    if (!handler) throw new UsageError(`unknown command \`${command}\``)
    return await handler.run(args, root)
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${PREFIX}${error.message}. See \`server-coverage ${handler ? `${command} ` : ''}--help\`.\n`)
      return 2
    }
    if (error instanceof ServerCoverageError) {
      process.stderr.write(`${error.message}\n`)
      return isUsageError(error) ? 2 : 1
    }
    throw error
  }
}
