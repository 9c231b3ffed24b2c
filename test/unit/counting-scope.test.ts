import type { ServerScope } from '../../src/coverage/filter.js'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { reportFilter } from '../../src/coverage/filter.js'

// Counting on load instruments the files src/agent/scope.cts picks with the report rule
// (src/coverage/report-rule.cts, the collector's own code): built from the scope the runtime passes
// in the environment, it must accept every file the report filter's script stage keeps, and, with
// server globs, exactly those.

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const { countedFiles } = createRequire(import.meta.url)(join(PACKAGE, 'dist', 'agent', 'scope.cjs')) as {
  countedFiles: (scope: string | undefined) => (file: string, hasSourceMap: boolean) => boolean
}

const PATHS = [
  '/root/server.js', '/root/src/a.js', '/root/src/deep/b.mjs', '/root/src/generated/c.js', '/root/test/x.test.js',
  '/root/node_modules/express/index.js', '/root/src/node_modules/x.js', '/root/..cache/d.js', '/elsewhere/shared/e.js',
  join(PACKAGE, 'dist', 'agent', 'preload.cjs'), join(PACKAGE, 'dist', 'host', 'worker.js'),
]
const SCOPES: ServerScope[] = [
  { cwd: '/root', include: ['src/**'], exclude: undefined },
  { cwd: '/root', include: ['src/**/*.{js,mjs}', 'server.js'], exclude: ['src/generated/**'] },
  { cwd: '/root', include: undefined, exclude: ['test/**'] },
  { cwd: '/root', include: ['/elsewhere/shared/**', 'src/**'], exclude: undefined },
  { cwd: '/root', include: [], exclude: [] },
]

describe('the files counting on load instruments', () => {
  for (const scope of SCOPES) {
    test(`with the server's globs (${JSON.stringify(scope)}): exactly the report filter's files, mapped files kept`, () => {
      const counted = countedFiles(JSON.stringify(scope))
      const filter = reportFilter(scope)
      for (const hasSourceMap of [false, true]) {
        for (const path of PATHS) expect(counted(path, hasSourceMap), `${path} (source map: ${hasSourceMap})`).toBe(filter.script(path, hasSourceMap))
      }
    })
  }

  test('without server globs (the runner decides when it reads): every file the rule does not exclude', () => {
    const counted = countedFiles(JSON.stringify({ cwd: '/root' }))
    const runnerSaysYes = reportFilter({ cwd: '/root', include: undefined, exclude: undefined }, () => true)
    for (const path of PATHS) expect(counted(path, false), path).toBe(runnerSaysYes.script(path, false))
  })
})
