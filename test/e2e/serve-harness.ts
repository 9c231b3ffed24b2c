import type { ChildProcess } from 'node:child_process'
import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import type { RunResult } from './harness.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, startCli, watchOutput } from './harness.js'

/** A `server-coverage serve` running in the background of a test. */
export interface RunningServe {
  child: ChildProcess
  /** Its attach address (what SERVER_COVERAGE_ATTACH takes). */
  address: string
  /** Base URL of each server it started, by name. */
  urls: Record<string, string>
  output: () => string
  result: Promise<RunResult>
}

/** Starts `serve` with `args` in `dir` and waits until it printed its attach address. */
export async function startServe(dir: string, args: string[], env: Record<string, string> = {}): Promise<RunningServe> {
  const { child, result } = startCli(dir, ['serve', ...args], env)
  const watch = watchOutput(child)
  await watch.waitFor(/attach with SERVER_COVERAGE_ATTACH=\S+/)
  const address = /attach with SERVER_COVERAGE_ATTACH=(\S+)/.exec(watch.text())![1]!
  const urls = Object.fromEntries([...watch.text().matchAll(/serving (http:\/\/\S+) \(([^)]+)\)/g)].map((match) => [match[2]!, match[1]!]))
  return { child, address, urls, output: watch.text, result }
}

/** Runs `snapshot` (or `stop`) into `reportsDir` and returns the coverage it wrote. */
export async function collectFrom(dir: string, command: 'snapshot' | 'stop', reportsDir: string, env: Record<string, string> = {}): Promise<CoverageMapData> {
  const run = await runCli(dir, [command, '--reporter', 'json', '--reports-dir', reportsDir], env)
  if (run.code !== 0) throw new Error(`server-coverage ${command} failed:\n${run.output}`)
  return JSON.parse(readFileSync(join(dir, reportsDir, 'coverage-final.json'), 'utf8')) as CoverageMapData
}

/** Every counter of a report, by `file|kind|id`: what "the same numbers" compares. */
export function counters(data: CoverageMapData): Map<string, number> {
  const out = new Map<string, number>()
  for (const [file, value] of Object.entries(data)) {
    const coverage = value as FileCoverageData
    for (const [id, hits] of Object.entries(coverage.s)) out.set(`${file}|s|${id}`, hits)
    for (const [id, hits] of Object.entries(coverage.f)) out.set(`${file}|f|${id}`, hits)
    for (const [id, hits] of Object.entries(coverage.b)) hits.forEach((hit, arm) => out.set(`${file}|b|${id}.${arm}`, hit))
  }
  return out
}
