import type { FileCoverageData } from 'istanbul-lib-coverage'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { NODE, lineOf, tempDirs } from './harness.js'
import { hasChromium, makePlaywrightProject, readCoverageFile, runPlaywright, statementsOn } from './playwright-harness.js'

// The real Playwright Test CLI with Debian's Chromium: a page whose esbuild bundle contains a
// module the server runs too. The browser's counts come back through the bundle's source map and
// land on the statement map the server's side builds from the file: one entry, counts added.

const track = tempDirs()
const hasBrowser = hasChromium()
const CHECK = 'src/shared/check.js'

describe.skipIf(!hasBrowser)('a module run by both the browser and the server', () => {
  let dir: string
  let full: FileCoverageData
  let apiOnly: FileCoverageData
  let output: string

  beforeAll(async () => {
    dir = track(makePlaywrightProject('shared'))
    const build = spawnSync(NODE, ['build.mjs'], { cwd: dir, encoding: 'utf8' })
    expect(build.status, build.stderr).toBe(0)
    const api = await runPlaywright(dir, ['--grep', '@api'])
    expect(api.code, api.output).toBe(0)
    apiOnly = readCoverageFile(dir)[join(dir, CHECK)] as FileCoverageData
    const run = await runPlaywright(dir, ['--workers', '2'])
    expect(run.code, run.output).toBe(0)
    output = run.output
    const coverage = readCoverageFile(dir)
    expect(Object.keys(coverage).filter((file) => file.endsWith('check.js'))).toEqual([join(dir, CHECK)])
    full = coverage[join(dir, CHECK)] as FileCoverageData
  }, 120_000)

  const hits = (file: FileCoverageData, marker: string): number[] => statementsOn(file, lineOf(dir, CHECK, marker)).map((id) => file.s[id]!)

  test('is one entry with the statement map the server side builds', () => {
    expect(full.statementMap).toEqual(apiOnly.statementMap)
    expect(full.fnMap).toEqual(apiOnly.fnMap)
    expect(full.branchMap).toEqual(apiOnly.branchMap)
    expect(output).not.toMatch(/did not line up/)
  })

  test('adds up exactly, statement by statement: the server 3 calls, the browser 3', () => {
    // [server only, browser + server]: the module's top level runs once in the server process
    // and once per page load; check() 3 + 3 times; each return as the values decide.
    const expected: [string, number[], number[]][] = [
      ['const DIGITS', [1], [2]],
      ["const text = String(value ?? '')", [3], [6]],
      ["if (text.length === 0) return 'empty'", [3, 0], [6, 1]],
      ['if (DIGITS.test(text))', [3, 2], [5, 3]],
      ["return 'word'", [1], [2]],
      ["return 'nobody calls this'", [0], [0]],
    ]
    for (const [marker, server, both] of expected) {
      expect(hits(apiOnly, marker), `server: ${marker}`).toEqual(server)
      expect(hits(full, marker), `both: ${marker}`).toEqual(both)
    }
    // Every statement of the file is one of those lines: nothing else was counted.
    expect(Object.keys(full.s)).toHaveLength(expected.reduce((count, [, server]) => count + server.length, 0))
    const fn = (name: string): number => full.f[Object.entries(full.fnMap).find(([, mapping]) => mapping.name === name)![0]]!
    expect(fn('check')).toBe(6)
    expect(fn('serverOnly')).toBe(0)
    // `Number(text) > 10 ? 'big number' : 'small number'`: the server's two 42s, the browser's 5.
    const ternary = Object.entries(full.branchMap).find(([, branch]) => branch.type === 'cond-expr')![0]
    expect(full.b[ternary]).toEqual([2, 1])
  })

  test('the page-only module is reported with the browser counts, from the bundle, next to the server files', () => {
    const main = readCoverageFile(dir)[join(dir, 'src/client/main.js')] as FileCoverageData
    const handler = statementsOn(main, lineOf(dir, 'src/client/main.js', "document.querySelector('#result')"))
    expect(handler.map((id) => main.s[id])).toEqual([3])
    expect(output).toMatch(/check\.js\s+\|/)
    expect(output).toMatch(/main\.js\s+\|/)
  })
})
