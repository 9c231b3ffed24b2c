import type { FileCoverageData } from 'istanbul-lib-coverage'
import type { ScriptCov } from '../../src/coverage/v8-types.js'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { mergeProcessCovs } from '@bcoe/v8-coverage'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { convertScripts } from '../../src/coverage/convert.js'
import { parseWithAcorn } from '../../src/coverage/parse.js'
import { CoverageDirReader, normaliseUrl } from '../../src/runtimes/node/read-dir.js'

// Real V8 coverage: a tiny CommonJS script run twice (positive, then negative argument).
const SCRIPT = [
  "const dep = require('./node_modules/dep/index.js')", // 1
  'function classify(n) {', //                               2
  '  if (n > 0) {', //                                        3
  "    return 'positive'", //                                 4
  '  } else {', //                                            5
  "    return 'other'", //                                    6
  '  }', //                                                   7
  '}', //                                                     8
  'function neverCalled() {', //                              9
  "  return 'never'", //                                      10
  '}', //                                                     11
  'console.log(dep(classify(Number(process.argv[2]))))', //   12
  '',
].join('\n')

let dir: string
let v8Dir: string
let appFile: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sc-pipeline-'))
  v8Dir = join(dir, 'v8')
  appFile = join(dir, 'app.js')
  mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true })
  writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'module.exports = (x) => x\n')
  writeFileSync(appFile, SCRIPT)
  for (const arg of ['1', '-1']) {
    const run = spawnSync(process.execPath, [appFile, arg], { env: childEnv(v8Dir), encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toBe(arg === '1' ? 'positive\n' : 'other\n')
  }
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Our environment with coverage into `coverageDir`, without preloads inherited from the runner. */
function childEnv(coverageDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_V8_COVERAGE: coverageDir }
  delete env.NODE_OPTIONS
  delete env.SERVER_COVERAGE_SOCKET
  return env
}

/** Hits of the first statement starting on `line`. */
function hitsOnLine(file: FileCoverageData, line: number): number | undefined {
  const id = Object.entries(file.statementMap)
    .filter(([, range]) => range.start.line === line)
    .sort(([, a], [, b]) => a.start.column - b.start.column)[0]?.[0]
  return id === undefined ? undefined : file.s[id]
}

const functionHits = (file: FileCoverageData, name: string): number | undefined => {
  const id = Object.entries(file.fnMap).find(([, fn]) => fn.name === name)?.[0]
  return id === undefined ? undefined : file.f[id]
}

describe('normaliseUrl', () => {
  // ESM cache-busting suffixes are dropped so one file is one script.
  test('strips query and hash', () => {
    expect(normaliseUrl('file:///srv/m.mjs?v=1')).toBe('file:///srv/m.mjs')
    expect(normaliseUrl('file:///srv/m.mjs#x')).toBe('file:///srv/m.mjs')
    expect(normaliseUrl('file:///srv/m.mjs?v=1#x')).toBe('file:///srv/m.mjs')
    expect(normaliseUrl('file:///srv/m.mjs')).toBe('file:///srv/m.mjs')
  })
})

describe('real V8 coverage through read → merge → convert', () => {
  // Two runs give two files from two pids; built-ins and node_modules are dropped; the second read is empty.
  test('CoverageDirReader reads each file once and filters scripts', async () => {
    expect(readdirSync(v8Dir).filter((name) => /^coverage-\d+-\d+-\d+\.json$/.test(name))).toHaveLength(2)
    const reader = new CoverageDirReader(v8Dir)
    const seen: string[] = []
    const first = await reader.read((path) => (seen.push(path), true), false)
    expect(first.files).toBe(2)
    expect(first.pids.size).toBe(2)
    expect(first.threads.size).toBe(2)
    expect(first.corrupt).toEqual([])
    // Both files' scripts, merged as they were read: one script, the two runs' counts added.
    expect(first.processCov.result.map((script) => script.url)).toEqual([pathToFileURL(appFile).href])
    expect(first.processCov.result[0]!.functions[0]!.ranges[0]!.count).toBe(2)
    // the filter is only asked about on-disk files outside node_modules
    expect(new Set(seen)).toEqual(new Set([appFile]))
    const second = await reader.read(() => true, true)
    expect({ files: second.files, covs: second.processCov.result.length, pids: second.pids.size, corrupt: second.corrupt }).toEqual({ files: 0, covs: 0, pids: 0, corrupt: [] })
  })

  // The filter decides: a script it rejects is not kept.
  test('a rejecting filter keeps no scripts', async () => {
    const read = await new CoverageDirReader(v8Dir).read(() => false, false)
    expect(read.files).toBe(2)
    expect(read.processCov.result).toEqual([])
  })

  // A half-written file waits while the server runs, and is reported as corrupt once it stopped.
  test('truncated file: skipped when not final, corrupt when final', async () => {
    const truncDir = join(dir, 'truncated')
    mkdirSync(truncDir)
    writeFileSync(join(truncDir, 'coverage-4242-1700000000000-0.json'), '{"result":[{"scriptId":"1","url":"file:///x.js"')
    writeFileSync(join(truncDir, 'coverage-4243-1700000000001-0.json'), '{"no":"result"}')
    writeFileSync(join(truncDir, 'not-coverage.json'), '{')
    const reader = new CoverageDirReader(truncDir)
    const running = await reader.read(() => true, false)
    expect({ files: running.files, corrupt: running.corrupt }).toEqual({ files: 0, corrupt: [] })
    const final = await reader.read(() => true, true)
    expect({ files: final.files, corrupt: final.corrupt }).toEqual({
      files: 0,
      corrupt: ['coverage-4242-1700000000000-0.json', 'coverage-4243-1700000000001-0.json'],
    })
    expect((await reader.read(() => true, true)).corrupt).toEqual([])
    // a missing directory reads as nothing
    expect((await new CoverageDirReader(join(dir, 'absent')).read(() => true, true)).files).toBe(0)
  })

  // Merged V8 counts convert to exact istanbul hits: each arm once, the unused function never.
  test('merge and convert give exact counts per line', async () => {
    const read = await new CoverageDirReader(v8Dir).read(() => true, true)
    const merged = read.processCov
    expect(merged.result).toHaveLength(1)
    const conversion = await convertScripts(merged.result, read.sourceMaps, parseWithAcorn)
    expect(conversion.failed).toEqual([])
    expect(Object.keys(conversion.data)).toEqual([appFile])
    const file = conversion.data[appFile] as FileCoverageData
    expect(hitsOnLine(file, 1)).toBe(2) // top level, once per run
    expect(hitsOnLine(file, 3)).toBe(2) // the if, every call
    expect(hitsOnLine(file, 4)).toBe(1) // then
    expect(hitsOnLine(file, 6)).toBe(1) // else
    expect(hitsOnLine(file, 10)).toBe(0) // never called
    expect(hitsOnLine(file, 12)).toBe(2)
    expect(functionHits(file, 'classify')).toBe(2)
    expect(functionHits(file, 'neverCalled')).toBe(0)
    const ifBranch = Object.entries(file.branchMap).find(([, b]) => b.type === 'if' && b.loc.start.line === 3)
    expect(ifBranch && file.b[ifBranch[0]]).toEqual([1, 1])
  })

  // A script whose file was deleted after it ran fails alone, with a reason, and the others still convert.
  test('a deleted script ends up in failed without throwing', async () => {
    const goneDir = join(dir, 'gone-v8')
    const gone = join(dir, 'gone.js')
    writeFileSync(gone, 'let x = 1\nx++\n')
    const run = spawnSync(process.execPath, [gone], { env: childEnv(goneDir) })
    expect(run.status).toBe(0)
    rmSync(gone)
    const goneRead = await new CoverageDirReader(goneDir).read(() => true, true)
    const appRead = await new CoverageDirReader(v8Dir).read(() => true, true)
    const merged = mergeProcessCovs([goneRead.processCov, appRead.processCov]).result
    expect(merged.map((script: ScriptCov) => script.url).sort()).toEqual([pathToFileURL(appFile).href, pathToFileURL(gone).href].sort())
    const conversion = await convertScripts(merged, {}, parseWithAcorn)
    expect(conversion.failed).toHaveLength(1)
    expect(conversion.failed[0]!.path).toBe(gone)
    expect(conversion.failed[0]!.reason).toContain('ENOENT')
    expect(Object.keys(conversion.data)).toEqual([appFile])
  })
})
