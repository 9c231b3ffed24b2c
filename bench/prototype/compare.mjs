// PROTOTYPE check: the same workload against the same server, counted by V8 (NODE_V8_COVERAGE, read
// and converted by server-coverage) and by the instrumenting prototype (counts → V8 ScriptCov → the
// same converter): the istanbul reports must be equal, file by file.
// Usage: node compare.mjs <serverDir> <script> <include,globs> <workload.json: [[method, path, body?, times]]>
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
const DIST = join(import.meta.dirname, '..', '..', 'dist')
const { CoverageDirReader } = await import(join(DIST, 'runtimes', 'node', 'read-dir.js'))
const { reportFilter } = await import(join(DIST, 'coverage', 'filter.js'))
const { convertScripts } = await import(join(DIST, 'coverage', 'convert.js'))
const { parseWithAcorn } = await import(join(DIST, 'coverage', 'parse.js'))
const { freePort, waitReady } = await import(join(import.meta.dirname, '..', 'lib', 'servers.js'))
const { signalGroup, waitGroupGone } = await import(join(import.meta.dirname, '..', 'lib', 'procs.js'))
const { scriptCovsFromCounts } = await import(join(import.meta.dirname, 'collect.js'))

const [cwd, script, includeList, workloadFile, node = process.execPath] = process.argv.slice(2)
const include = includeList.split(',')
const workload = JSON.parse(readFileSync(workloadFile, 'utf8'))

async function run(env) {
  const port = await freePort()
  const child = spawn(node, [script], { cwd, env: { ...process.env, WORKERS: '2', ...env, PORT: String(port) }, detached: true, stdio: ['ignore', 'ignore', 'inherit'] })
  const base = `http://127.0.0.1:${port}`
  await waitReady(`${base}/health`, child)
  for (const [method, path, body, times = 1] of workload) {
    for (let i = 0; i < times; i++) {
      const response = await fetch(base + path, { method, headers: body ? { 'content-type': 'application/json', connection: 'close' } : { connection: 'close' }, body: body ? JSON.stringify(body) : undefined })
      await response.arrayBuffer()
    }
  }
  signalGroup(child.pid, 'SIGTERM')
  await waitGroupGone(child.pid)
}

const filter = reportFilter({ cwd, include, exclude: [] })
const keep = (data) => Object.fromEntries(Object.entries(data).filter(([file]) => filter.accepts(file)))

const v8Dir = mkdtempSync(join(tmpdir(), 'proto-v8-'))
await run({ NODE_V8_COVERAGE: v8Dir, NODE_OPTIONS: `--require ${join(import.meta.dirname, 'exit-on-signal.cjs')}` })
const read = await new CoverageDirReader(v8Dir).read(filter.script, true)
const v8 = keep((await convertScripts(read.processCov.result, read.sourceMaps, parseWithAcorn)).data)

const protoDir = mkdtempSync(join(tmpdir(), 'proto-counts-'))
await run({ SC_PROTO_DIR: protoDir, SC_PROTO_INCLUDE: include.join(','), NODE_OPTIONS: `--require ${join(import.meta.dirname, 'preload.cjs')}` })
const dumps = readdirSync(protoDir).map((name) => JSON.parse(readFileSync(join(protoDir, name), 'utf8')))
const proto = keep((await convertScripts(scriptCovsFromCounts(dumps), {}, parseWithAcorn)).data)

let equal = true
for (const file of new Set([...Object.keys(v8), ...Object.keys(proto)])) {
  const a = v8[file]
  const b = proto[file]
  if (isDeepStrictEqual(a, b)) {
    console.log(`equal  ${file}`)
    continue
  }
  equal = false
  console.log(`DIFFER ${file}`)
  if (!a || !b) continue
  for (const [kind, map] of [['s', 'statementMap'], ['f', 'fnMap'], ['b', 'branchMap']]) {
    for (const id of Object.keys(a[kind])) {
      if (!isDeepStrictEqual(a[kind][id], b[kind][id])) console.log(`  ${kind}[${id}] V8 ${JSON.stringify(a[kind][id])} prototype ${JSON.stringify(b[kind][id])} at ${JSON.stringify(a[map][id].loc ?? a[map][id])}`)
    }
  }
}
rmSync(v8Dir, { recursive: true, force: true })
rmSync(protoDir, { recursive: true, force: true })
console.log(equal ? 'REPORTS EQUAL' : 'REPORTS DIFFER')
process.exitCode = equal ? 0 : 1
