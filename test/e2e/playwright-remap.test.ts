import type { Browser } from '@playwright/test'
import type { FileCoverageData } from 'istanbul-lib-coverage'
import type { ScriptCov } from '../../src/coverage/v8-types.js'
import type { AddressInfo } from 'node:net'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium } from '@playwright/test'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { browserCoverage } from '../../src/adapters/playwright/browser-report.js'
import { BrowserCoverageMapper } from '../../src/browser/collect.js'
import { writeBrowserCounts } from '../../src/browser/store.js'
import { convertScripts } from '../../src/coverage/convert.js'
import { parseWithAcorn } from '../../src/coverage/parse.js'
import { NODE, tempDirs } from './harness.js'
import { CHROMIUM, hasChromium, makePlaywrightProject } from './playwright-harness.js'

// The browser half on its own, against the reference: a module with most of what a statement
// map holds (classes, private fields, getters, async, switch, loops, try/finally, default
// params, optional chaining, object methods, a function nobody calls) runs the same calls in
// Node (V8 coverage of the file itself) and in Chromium (from a bundle, through its source map).
// The runner's path (worker mapper → stored counts → conversion) must give Node's numbers.

const track = tempDirs()
const hasBrowser = hasChromium()
const RICH = 'src/rich.js'

let dir: string
let browser: Browser
let reference: FileCoverageData
let baseUrl: string
const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  if (path === '/') {
    res.setHeader('content-type', 'text/html')
    res.end(`<script type="module" src="${process.env.SC_REMAP_ENTRY ?? '/public/app.js'}"></script>`)
    return
  }
  try {
    const body = readFileSync(join(dir, path))
    res.setHeader('content-type', path.endsWith('.map') ? 'application/json' : 'text/javascript')
    res.end(body)
  } catch {
    res.statusCode = 404
    res.end()
  }
})

beforeAll(async () => {
  if (!hasBrowser) return
  dir = track(makePlaywrightProject('remap'))
  const v8Dir = join(dir, 'v8')
  const node = spawnSync(NODE, ['node-run.mjs'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_V8_COVERAGE: v8Dir, NODE_OPTIONS: '' } })
  expect(node.status, node.stderr).toBe(0)
  const url = pathToFileURL(join(dir, RICH)).href
  const scriptCov = readdirSync(v8Dir)
    .flatMap((name) => (JSON.parse(readFileSync(join(v8Dir, name), 'utf8')) as { result: ScriptCov[] }).result)
    .find((script) => script.url === url)!
  reference = (await convertScripts([scriptCov], {}, parseWithAcorn)).data[join(dir, RICH)] as FileCoverageData
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  server.close()
})

/** Runs the page with `entry` as its script; returns the report the runner would make of it, and the notes. */
async function browserReport(entry: string, file = RICH): Promise<{ file: FileCoverageData | undefined; notes: string[] }> {
  process.env.SC_REMAP_ENTRY = entry
  const page = await browser.newPage()
  await page.coverage.startJSCoverage({ resetOnNavigation: false })
  await page.goto(`${baseUrl}/`)
  await page.waitForFunction(() => (globalThis as { result?: string }).result)
  const scripts = await page.coverage.stopJSCoverage()
  await page.close()
  const mapper = new BrowserCoverageMapper({ roots: [dir] })
  await mapper.add(scripts)
  const store = track(mkdtempSync(join(dir, 'browser-')))
  writeBrowserCounts(store, 'worker', mapper.take())
  const notes: string[] = []
  const data = await browserCoverage(store, dir, { reporter: [], reportsDirectory: 'coverage' }, (line) => notes.push(line))
  return { file: data[join(dir, file)] as FileCoverageData | undefined, notes }
}

async function bundle(options: Parameters<typeof build>[0], entry = 'src/main.js'): Promise<void> {
  await build({ entryPoints: [join(dir, entry)], bundle: true, outfile: join(dir, 'public/app.js'), logLevel: 'silent', ...options })
}

function expectExactlyNode(file: FileCoverageData | undefined): void {
  expect(file).toBeDefined()
  expect(file!.statementMap).toEqual(reference.statementMap)
  expect(file!.fnMap).toEqual(reference.fnMap)
  expect(file!.branchMap).toEqual(reference.branchMap)
  expect(file!.s).toEqual(reference.s)
  expect(file!.f).toEqual(reference.f)
  expect(file!.b).toEqual(reference.b)
}

describe.skipIf(!hasBrowser)('browser counts carried back to the original file equal Node running it', () => {
  test('the reference is not trivial', () => {
    expect(Object.keys(reference.s).length).toBeGreaterThan(50)
    expect(Object.values(reference.s).filter((hits) => hits === 0).length).toBeGreaterThanOrEqual(3)
    expect(Object.values(reference.s).some((hits) => hits > 1)).toBe(true)
  })

  test('esbuild ESM bundle, external source map fetched from the server', async () => {
    await bundle({ format: 'esm', sourcemap: true })
    const { file, notes } = await browserReport('/public/app.js')
    expect(notes).toEqual([])
    expectExactlyNode(file)
  })

  test('esbuild IIFE bundle, inline source map', async () => {
    await bundle({ format: 'iife', sourcemap: 'inline' })
    const { file, notes } = await browserReport('/public/app.js')
    expect(notes).toEqual([])
    expectExactlyNode(file)
  })

  test('unbundled ES modules served as they are (no source map): found on disk by their text', async () => {
    const { file, notes } = await browserReport('/src/main.js')
    expect(notes).toEqual([])
    expectExactlyNode(file)
  })

  test('minified bundle: the same statement map; counts never negative and never invented', async () => {
    await bundle({ format: 'esm', sourcemap: true, minify: true })
    const { file } = await browserReport('/public/app.js')
    expect(file!.statementMap).toEqual(reference.statementMap)
    expect(file!.branchMap).toEqual(reference.branchMap)
    for (const [id, hits] of Object.entries(file!.s)) {
      expect(hits).toBeGreaterThanOrEqual(0)
      if (hits > 0) expect(reference.s[id], `statement ${id}`).toBeGreaterThan(0)
    }
    for (const hits of Object.values(file!.b).flat()) expect(hits).toBeGreaterThanOrEqual(0)
    // …and most of what ran is still seen as run (the minifier merges and drops some statements).
    const covered = (hits: Record<string, number>): number => Object.values(hits).filter((count) => count > 0).length
    expect(covered(file!.s)).toBeGreaterThanOrEqual(Math.floor(covered(reference.s) * 0.85))
  })

  test('a file edited after the bundle was built is left out, and named', async () => {
    await bundle({ format: 'esm', sourcemap: true })
    const original = readFileSync(join(dir, RICH), 'utf8')
    writeFileSync(join(dir, RICH), `// edited\n${original}`)
    try {
      const { file, notes } = await browserReport('/public/app.js')
      expect(file).toBeUndefined()
      expect(notes).toEqual([expect.stringMatching(/rich\.js changed since http:\/\/127\.0\.0\.1:\d+\/public\/app\.js was built/)])
    } finally {
      writeFileSync(join(dir, RICH), original)
    }
  })
})

describe.skipIf(!hasBrowser)('a TypeScript original (not parseable as it is)', () => {
  test('is converted from the bundle through its source map: in the report with its counts', async () => {
    await bundle({ format: 'esm', sourcemap: true }, 'src/main-ts.ts')
    const { file, notes } = await browserReport('/public/app.js', 'src/typed.ts')
    expect(notes).toEqual([])
    const calls = Object.fromEntries(Object.entries(file!.fnMap).map(([id, fn]) => [fn.name, file!.f[id]]))
    expect(calls).toEqual({ totalQty: 1, describeItem: 2 })
    const ternary = Object.entries(file!.branchMap).find(([, branch]) => branch.type === 'cond-expr')![0]
    expect(file!.b[ternary]).toEqual([1, 1])
    expect(Object.values(file!.s).every((hits) => hits > 0)).toBe(true)
  })
})
