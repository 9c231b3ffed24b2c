import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import type { CoverageSession, ServerOptions } from '../../dist/index.js'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { mergeInto } from '../../dist/coverage/merge-into.js'
import { ServerCoverageError, startServerCoverage } from '../../dist/index.js'
import { eventually, fileCoverage, isAlive, lineOf, makeProject, NODE, readCoverage, REPO, runCli, statementHits, tempDirs } from './harness.js'

// Counting on load (`counting: 'load'`, issue 14) is offered only because its reports equal the
// V8 route's: the same requests against the same server, once counted by V8 and once on load,
// through the library as users call it, must give equal istanbul data file by file (statement,
// branch and function maps and every count), for every read. Servers run on NODE (SC_NODE for
// Node 24), 2 workers.

const FIXTURES = join(REPO, 'test', 'fixtures', 'projects')
const track = tempDirs()
const COUNTING = join(FIXTURES, 'counting-load')

/** [path, times]: requests made one after another. */
type Workload = [string, number?][]

/** Every construct of counting-load/*\/src/shapes.js, in two parts (two reads). */
const SHAPES_FIRST: Workload = [
  ['/health'], ['/switch?n=0'], ['/switch?n=2'], ['/switch?n=3'], ['/switch?n=200'], ['/switch?n=7'],
  ['/try'], ['/try?mode=throw'], ['/try?mode=return'], ['/try?mode=rethrow'], ['/loops?n=4'], ['/loops?n=2'],
]
const SHAPES_SECOND: Workload = [
  ['/async?n=3'], ['/gen?n=4'], ['/class'], ['/class?n=3'], ['/ops?n=1'], ['/ops?n=7'], ['/ops?n=0'], ['/ops?n=12'],
  ['/throws', 2], ['/nothing'],
]
const EXPRESS_FIRST: Workload = [['/users', 2], ['/users/1'], ['/users/999']]
const EXPRESS_SECOND: Workload = [['/users/2'], ['/nope']]
const CLUSTER_FIRST: Workload = [['/hello', 3], ['/never-routed']]
const CLUSTER_SECOND: Workload = [['/hello'], ['/health']]

async function request(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(base + path, { ...init, headers: { connection: 'close', ...init.headers } })
  await response.clone().arrayBuffer()
  return response
}

async function runWorkload(base: string, workload: Workload): Promise<void> {
  for (const [path, times = 1] of workload) for (let i = 0; i < times; i++) await request(base, path)
}

/** Waits (request by request, no timer) until `path`, which answers with the serving process's pid, was answered by `count` processes. */
async function untilServedBy(base: string, path: string, count: number, pidOf: (body: string) => string = (body) => body): Promise<Set<string>> {
  const pids = new Set<string>()
  for (let attempt = 0; attempt < 2000 && pids.size < count; attempt++) pids.add(pidOf(await (await request(base, path)).text()))
  if (pids.size < count) throw new Error(`only ${pids.size} of ${count} workers answered ${path}`)
  return pids
}

/** What one run gave: every read (collects, then the stop's), and the log. */
interface Run {
  reads: CoverageMapData[]
  log: string[]
}

/** Starts `options` with `counting`, runs `drive` (which collects), stops with a last read. */
async function run(counting: 'v8' | 'load', log: string[], options: ServerOptions, drive: (session: CoverageSession, base: string) => Promise<CoverageMapData[]>): Promise<Run> {
  const session = await startServerCoverage({ ...options, counting }, { root: options.cwd, log: (line) => log.push(line) })
  try {
    const reads = await drive(session, session.urls.server!)
    const last = await session.stop({ collect: true })
    return { reads: [...reads, last?.data ?? {}], log }
  } finally {
    await session.stop()
  }
}

function total(reads: CoverageMapData[]): CoverageMapData {
  const sum: CoverageMapData = {}
  for (const read of reads) mergeInto(sum, structuredClone(read))
  return sum
}

/** Both runs, and every read and the totals equal file by file (the message names the first difference). */
async function expectEqualRuns(options: ServerOptions, drive: (session: CoverageSession, base: string) => Promise<CoverageMapData[]>, files: string[]): Promise<{ v8: Run; load: Run }> {
  const v8 = await run('v8', [], options, drive)
  const load = await run('load', [], options, drive)
  expect(load.reads.length).toBe(v8.reads.length)
  const compare = [...v8.reads.map((read, index) => [`read ${index + 1}`, read, load.reads[index]!] as const), ['total', total(v8.reads), total(load.reads)] as const]
  for (const [what, expected, actual] of compare) {
    expect(Object.keys(actual).sort(), `${what}: files`).toEqual(Object.keys(expected).sort())
    for (const file of Object.keys(expected)) expect(actual[file], `${what}: ${file}`).toEqual(expected[file])
  }
  // Not vacuous: the files are there, and code ran in them.
  const sum = total(v8.reads)
  expect(Object.keys(sum).sort()).toEqual(files.map((file) => join(options.cwd!, file)).sort())
  for (const file of files) expect(Object.values((sum[join(options.cwd!, file)] as FileCoverageData).s).some((hits) => hits > 0)).toBe(true)
  return { v8, load }
}

const command = (script: string): string => `${NODE} ${script}`

describe('counting on load: equal to V8, file by file', () => {
  for (const flavour of ['esm', 'cjs'] as const) {
    test(`${flavour === 'esm' ? 'ES modules' : 'CommonJS'}: every construct, startup included, two collects and the stop's read`, async () => {
      const cwd = join(COUNTING, flavour)
      const options: ServerOptions = { command: command('server.js'), url: '/health', cwd, env: { WORKERS: '2' }, exclude: ['src/ready.js'] }
      const { v8 } = await expectEqualRuns(options, async (session, base) => {
        await untilServedBy(base, '/pid', 2)
        const startup = (await session.collect()).data
        await runWorkload(base, SHAPES_FIRST)
        const first = (await session.collect()).data
        await runWorkload(base, SHAPES_SECOND)
        return [startup, first, (await session.collect()).data]
      }, ['server.js', 'src/shapes.js'])
      // The numbers that matter, in V8's (equal) report: 3 processes ran the modules, each request once.
      const shapes = total(v8.reads)[join(cwd, 'src/shapes.js')] as FileCoverageData
      const server = total(v8.reads)[join(cwd, 'server.js')] as FileCoverageData
      expect(statementHits(server, lineOf(cwd, 'server.js', 'const workers ='))).toBe(3)
      expect(statementHits(shapes, lineOf(cwd, 'src/shapes.js', "return 'three-or-four'"))).toBe(1)
      expect(statementHits(shapes, lineOf(cwd, 'src/shapes.js', 'const before ='))).toBe(2)
    })
  }

  test('the e2e cluster fixture (ES modules, command)', async () => {
    const cwd = join(FIXTURES, 'cluster')
    await expectEqualRuns({ command: command('server.js'), url: '/health', cwd, env: { WORKERS: '2' } }, async (session, base) => {
      await untilServedBy(base, '/hello', 2, (body) => String((JSON.parse(body) as { pid: number }).pid))
      await session.collect() // startup and the wait: how many requests that took differs run by run
      await runWorkload(base, CLUSTER_FIRST)
      const first = (await session.collect()).data
      await runWorkload(base, CLUSTER_SECOND)
      return [first, (await session.collect()).data]
    }, ['src/routes.js'])
  })

  test('examples/express-cluster (ES modules, Express, command)', async () => {
    const cwd = join(REPO, 'examples', 'express-cluster')
    await expectEqualRuns({ command: command('server.js'), url: '/health', cwd, env: { WORKERS: '2' }, include: ['server.js', 'src/**'] }, async (session, base) => {
      await untilServedBy(base, '/health', 2, (body) => String((JSON.parse(body) as { pid: number }).pid))
      await session.collect()
      await runWorkload(base, EXPRESS_FIRST)
      await request(base, '/users', { method: 'POST', body: JSON.stringify({ name: ' Grace ' }), headers: { 'content-type': 'application/json' } })
      await request(base, '/users', { method: 'POST', body: JSON.stringify({}), headers: { 'content-type': 'application/json' } })
      const first = (await session.collect()).data
      await runWorkload(base, EXPRESS_SECOND)
      return [first, (await session.collect()).data]
    }, ['src/app.js'])
  })

  test('tsc output with source maps: reported on the .ts file, startup included', async () => {
    const cwd = track(makeProject('typescript'))
    execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', cwd])
    await expectEqualRuns({ command: command('dist/server.js'), url: '/health', cwd, include: ['src/**'] }, async (session, base) => {
      await runWorkload(base, [['/greet', 2], ['/other']])
      const first = (await session.collect()).data
      await runWorkload(base, [['/greet']])
      return [first]
    }, ['src/server.ts'])
  })

  test('an app hosted by our cluster (`app`, 2 workers): startup included', async () => {
    const cwd = join(COUNTING, 'esm')
    await expectEqualRuns({ app: 'src/shapes.js', appExport: 'handle', workers: 2, cwd }, async (session, base) => {
      await runWorkload(base, SHAPES_FIRST)
      const first = (await session.collect()).data
      await runWorkload(base, SHAPES_SECOND)
      return [first]
    }, ['src/shapes.js'])
  })
})

describe('counting on load: processes', () => {
  test('a worker stopped by SIGTERM keeps its counts (written at its exit)', async () => {
    const cwd = join(COUNTING, 'cjs')
    const log: string[] = []
    const session = await startServerCoverage(
      { command: command('server.js'), url: '/health', cwd, env: { WORKERS: '2' }, exclude: ['src/ready.js'], counting: 'load' },
      { root: cwd, log: (line) => log.push(line) },
    )
    try {
      const base = session.urls.server!
      const [victim] = await untilServedBy(base, '/pid', 2)
      await session.collect()
      // Round robin over 2 workers: 4 requests, 2 each; then the victim stops before any flush.
      await runWorkload(base, [['/gen?n=1', 4]])
      process.kill(Number(victim), 'SIGTERM')
      expect(await eventually(() => !isAlive(Number(victim)), 10_000)).toBe(true)
      const shapes = (await session.collect()).data[join(cwd, 'src/shapes.js')] as FileCoverageData
      expect(statementHits(shapes, lineOf(cwd, 'src/shapes.js', 'return send([...numbers(n)])'))).toBe(4)
      expect(log.join('\n')).not.toContain('exited without writing coverage')
    } finally {
      await session.stop()
    }
  })

  test('worker threads are not counted, and the log says so once', async () => {
    const cwd = join(COUNTING, 'esm')
    const log: string[] = []
    await run('load', log, { command: command('server.js'), url: '/health', cwd, env: { WORKERS: '2', WITH_THREAD: '1' }, exclude: ['src/ready.js'] }, async (session, base) => {
      await untilServedBy(base, '/pid', 2)
      // A thread registers when its agent has connected: collect (a flush round each) until one has.
      const reads: CoverageMapData[] = []
      for (let attempt = 0; attempt < 200 && !log.some((line) => line.includes('worker thread')); attempt++) reads.push((await session.collect()).data)
      reads.push((await session.collect()).data)
      return reads
    })
    expect(log.filter((line) => line.includes("counting 'load' does not count code in worker threads"))).toHaveLength(1)
  })
})

describe('counting on load: code it cannot count', () => {
  test('a file a require hook rewrote is left out and named once in the log', async () => {
    const cwd = join(COUNTING, 'cjs')
    const log: string[] = []
    const { reads } = await run('load', log, { command: command('server.js'), url: '/health', cwd, env: { WORKERS: '2', TRANSFORM: '1' } }, async (session, base) => {
      await untilServedBy(base, '/pid', 2)
      return [(await session.collect()).data, (await session.collect()).data]
    })
    const named = log.filter((line) => line.includes("counting 'load' could not count"))
    expect(named).toEqual([`counting 'load' could not count ${join(cwd, 'src/transformed.js')} of "server": the code Node ran is not the file on disk (a loader or require hook transformed it), so it is not in the report. Use \`counting: 'v8'\` for this server.`])
    expect(Object.keys(total(reads)).sort()).toEqual([join(cwd, 'server.js'), join(cwd, 'src/ready.js'), join(cwd, 'src/shapes.js')])
  })
})

describe('counting on load: the CLI flag', () => {
  test('`run --counting load`: the report counts every request', async () => {
    const dir = track(makeProject('cli'))
    const run = await runCli(dir, ['run', '--command', 'node server.js', '--url', '/health', '--env', 'WORKERS=2', '--include', 'src/**', '--counting', 'load', '--', 'node', '--test', 'test/hello.test.mjs'], { HITS: '3' })
    expect(run.code, run.output).toBe(0)
    const routes = fileCoverage(readCoverage(dir), dir, 'src/routes.js')
    expect(statementHits(routes, lineOf(dir, 'src/routes.js', 'JSON.stringify({ hello'))).toBe(3)
  })
})

describe('counting on load: what it refuses', () => {
  const cwd = join(COUNTING, 'esm')
  const refusal = async (options: ServerOptions): Promise<ServerCoverageError> => {
    const error = await startServerCoverage({ cwd, ...options }, { root: cwd, log: () => {} }).then(
      async (session) => {
        await session.stop()
        throw new Error('started')
      },
      (cause: unknown) => cause,
    )
    expect(error).toBeInstanceOf(ServerCoverageError)
    return error as ServerCoverageError
  }

  test('code a loader or require hook may transform: UNSUPPORTED, naming the option and the way out', async () => {
    for (const options of [
      { command: command('server.ts'), counting: 'load' },
      { command: 'npx tsx server.js', counting: 'load' },
      { command: command('--import ./register.js server.js'), counting: 'load' },
      { command: command('server.js'), env: { NODE_OPTIONS: '--require ./hook.cjs' }, counting: 'load' },
      { app: 'src/app.ts', counting: 'load' },
    ] satisfies ServerOptions[]) {
      const error = await refusal(options)
      expect(error.code).toBe('UNSUPPORTED')
      expect(error.message).toMatch(/the `counting` option 'load' counts plain JavaScript as it is on disk, but .*Use `counting: 'v8'` \(the default\)/)
    }
  })

  test('where it cannot apply, and values it does not know: INVALID_OPTION', async () => {
    expect((await refusal({ command: 'uwsgi --ini app.ini', counting: 'load' })).message).toContain("it does not apply to a Python server (runtime 'python', inferred from \"uwsgi --ini app.ini\")")
    expect((await refusal({ agents: '127.0.0.1:0', counting: 'load' })).message).toContain('it does not apply to servers started elsewhere (`agents`)')
    const unknown = await refusal({ command: 'node server.js', counting: 'fast' as 'load' })
    expect(unknown.code).toBe('INVALID_OPTION')
    expect(unknown.message).toBe("server-coverage: expected the `counting` option to be one of 'v8', 'load', got `fast` (string).")
  })
})
