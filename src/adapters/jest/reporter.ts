import type { FileCoverageData } from 'istanbul-lib-coverage'
import type { JestGlobalConfig, JestProjectConfig, JestTest, JestTestResult } from './jest-types.js'
import type { JestState, ProjectServers } from './state.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onProcessExit } from '../../cleanup.js'
import { reportFilter } from '../../coverage/filter.js'
import { defaultLog as log, plural, unmatchedMessage } from '../../messages.js'
import { jestFileFilter } from './filter.js'
import { injectIstanbul } from './inject-babel.js'
import { buildV8Entries } from './inject-v8.js'
import { holder } from './state.js'
import { addToV8Report } from './v8-report-route.js'


/** The private folder for this run's source maps; Jest reads them in its onRunComplete. */
async function runScratchDir(run: number): Promise<string> {
  const slot = holder()
  if (!slot.scratchDir) {
    slot.scratchDir = mkdtempSync(join(tmpdir(), 'server-coverage-jest-'))
    const dir = slot.scratchDir
    // Jest 29 skips global teardown with --bail, and watch mode ends with process.exit.
    onProcessExit(() => rmSync(dir, { recursive: true, force: true }))
  }
  const dir = join(slot.scratchDir, `run-${run}`)
  // The previous watch run's report is written: its files can go.
  await rm(join(slot.scratchDir, `run-${run - 1}`), { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  return dir
}

let runs = 0

/**
 * Jest reporter (`server-coverage/jest/reporter`). Jest writes coverage-final.json, every
 * coverage reporter and the threshold check in its CoverageReporter, which runs after custom
 * reporters and before global teardown. So when the last test file's result arrives, this
 * reporter flushes every server process and adds the data to that result (`v8Coverage` for the
 * v8 provider, `coverage` for babel), and Jest reports it as its own.
 */
export class ServerCoverageReporter {
  readonly #globalConfig: JestGlobalConfig
  #total = 0
  #seen = 0
  #done = false
  /** URLs of the tests' own raw V8 data (v8 provider). */
  readonly #testUrls = new Set<string>()
  /** The tests' istanbul map of each file (babel provider); Jest clears `coverage` after each file. */
  readonly #testMaps = new Map<string, FileCoverageData>()
  /** Project configs seen on test files, by rootDir: Jest's own, CLI flags applied. */
  readonly #configs = new Map<string, JestProjectConfig>()

  constructor(globalConfig: JestGlobalConfig) {
    this.#globalConfig = globalConfig
  }

  onRunStart(aggregatedResults: { numTotalTestSuites: number }): void {
    this.#total = aggregatedResults.numTotalTestSuites
    this.#seen = 0
    this.#done = false
  }

  async onTestFileResult(test: JestTest, testResult: JestTestResult): Promise<void> {
    this.#seen += 1
    if (!this.#configs.has(test.context.config.rootDir)) this.#configs.set(test.context.config.rootDir, test.context.config)
    for (const entry of testResult.v8Coverage ?? []) this.#testUrls.add(entry.result.url)
    for (const [file, data] of Object.entries(testResult.coverage ?? {})) {
      if (!this.#testMaps.has(file)) this.#testMaps.set(file, data as FileCoverageData)
    }
    if (this.#seen !== this.#total) {
      // A checkpoint after every test file: a server process killed mid-run loses at most one file's worth.
      if (this.#globalConfig.collectCoverage) for (const project of holder().current?.projects ?? []) void project.session.checkpoint()
      return
    }
    this.#done = true
    const state = holder().current
    if (!state?.coverage || !this.#globalConfig.collectCoverage) return
    try {
      await this.#inject(state, testResult)
    } catch (error) {
      // Never break Jest's own report: the server's part is missing, and we say why.
      log(`could not add the server's coverage: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    }
  }

  onRunComplete(): void {
    const state = holder().current
    if (!state) {
      log('no server was started: add `globalSetup: \'server-coverage/jest/global-setup\'` to your Jest config.')
    } else if (state.coverage && this.#globalConfig.collectCoverage && !this.#done && this.#total > 0) {
      log(`the run ended after ${this.#seen} of ${this.#total} test files (--bail or interrupted): the server's coverage is not in this report.`)
    }
  }

  #filterFor(project: ProjectServers): (path: string) => boolean {
    const config = this.#configs.get(project.rootDir) ?? project.config
    return config ? jestFileFilter(this.#globalConfig, config) : () => true
  }

  async #inject(state: JestState, testResult: JestTestResult): Promise<void> {
    const startedAt = Date.now()
    const v8 = this.#globalConfig.coverageProvider === 'v8'
    const dir = v8 ? await runScratchDir(++runs) : ''
    let processes = 0
    let files = 0
    for (const project of state.projects) {
      // Jest's own collectCoverageFrom / coveragePathIgnorePatterns: the runner's say in the core's one rule.
      const runner = this.#filterFor(project)
      if (v8) {
        const read = await project.session.read({ filter: runner })
        processes += read.processes
        for (const server of read.servers) {
          const { accepts } = reportFilter(server.scope, runner)
          if (server.coverage.format === 'istanbul') {
            // Not V8 (a Python server): through the CoverageReporter seam, see v8-report-route.ts.
            const data = Object.fromEntries(Object.entries(server.coverage.data).filter(([file]) => accepts(file)))
            addToV8Report(data)
            files += Object.keys(data).length
            continue
          }
          const injection = await buildV8Entries(server.coverage, { accepts, takenUrls: this.#testUrls, dir })
          testResult.v8Coverage ??= []
          testResult.v8Coverage.push(...injection.entries)
          for (const { path, reason } of injection.failed) log(`could not convert ${path}: ${reason} (left out of the report)`)
          files += injection.entries.length
        }
      } else {
        const collected = await project.session.collect({ filter: runner })
        testResult.coverage ??= {}
        const injection = injectIstanbul(testResult.coverage, collected.data, this.#testMaps)
        for (const file of injection.keptTestSide) {
          log(`${file} is run by both the tests and the server, and the tests ran it through a transpiler: the maps cannot line up, so only the tests' coverage of it is reported.`)
        }
        for (const [file, count] of injection.unmatched) log(unmatchedMessage(file, count, "Jest's statement map of it"))
        processes += collected.processes
        files += injection.added
      }
    }
    if (v8) log(`collected coverage from ${plural(processes, 'process')}, ${plural(files, 'file')} in ${Date.now() - startedAt} ms`)
  }
}

export default ServerCoverageReporter
