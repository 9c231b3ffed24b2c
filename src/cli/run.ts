import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { ReporterName } from '../report/write.js'
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import { mergeCoverageData } from '../coverage/merge-map.js'
import { planCommand } from '../launch/command.js'
import { ServerCoverageSession as Session } from '../session.js'
import { resolveServers } from '../options.js'
import { loadCoverage, saveData, writeCoverageJson } from './data-file.js'
import { writeReports } from '../report/write.js'

/** What `server-coverage run` was asked to do. */
export interface RunRequest {
  servers: unknown
  testCommand: string[]
  root: string
  mergeInto: string | undefined
  dataDir: string | undefined
  reporters: ReporterName[]
  reportsDir: string
}

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
      process.stderr.write(`server-coverage: could not run the test command "${command.join(' ')}": ${error.message}\n`)
      resolvePromise(127)
    })
    child.once('exit', (code, signal) => resolvePromise(code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGKILL' ? 9 : 15)))
  })
}

/**
 * Boots the servers, runs the test command with their URLs, stops them, and writes the server
 * coverage: merged into an existing report (`--merge-into`), saved raw (`--data-dir`), and as
 * reports. Resolves with the test command's exit code.
 */
export async function run(request: RunRequest): Promise<number> {
  const session = await Session.start({ servers: resolveServers(request.servers, request.root) })
  let killTests: ((signal: NodeJS.Signals) => void) | undefined
  // Interrupted (Ctrl+C, CI cancel): pass it on to the tests; the servers are stopped below.
  const onSignal = (signal: NodeJS.Signals): void => killTests?.(signal)
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let exitCode: number
  let data: CoverageMapData
  try {
    exitCode = await runTests(request.testCommand, urlEnv(session.urls), (kill) => (killTests = kill))
    data = (await session.collect()).data
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    // What the servers ran while shutting down (their own signal handlers) counts too.
    const leftovers = await session.stop({ collect: true })
    if (leftovers && data!) mergeCoverageData(data, leftovers.data)
  }
  if (request.dataDir) {
    const file = await saveData(resolve(request.root, request.dataDir), data, request.root)
    process.stderr.write(`server-coverage: saved the server data to ${file}\n`)
  }
  if (request.mergeInto) {
    const target = resolve(request.root, request.mergeInto)
    const existing = await loadCoverage(target, request.root, [])
    const unmatched = mergeCoverageData(existing, data)
    for (const [file, count] of unmatched) {
      process.stderr.write(`server-coverage: ${count} covered location(s) of ${file} did not line up with the existing report's map; left out rather than counted twice\n`)
    }
    await writeCoverageJson(target, existing)
    process.stderr.write(`server-coverage: merged the server coverage into ${target}\n`)
    data = existing
  }
  if (request.reporters.length > 0) {
    const dir = resolve(request.root, request.reportsDir)
    writeReports(data, request.reporters, dir, request.root)
    if (request.reporters.includes('json')) process.stderr.write(`server-coverage: wrote ${join(dir, 'coverage-final.json')}\n`)
  }
  return exitCode
}
