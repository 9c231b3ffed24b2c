import type { ServerScope } from '../../src/coverage/filter.js'
import { createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import picomatch from 'picomatch'
import { describe, expect, test } from 'vitest'
import { compileGlobs, globPredicate, reportFilter } from '../../src/coverage/filter.js'

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
      // As the runtime passes it (globs compiled by the collector), and with the globs alone.
      for (const passed of [{ ...scope, compiled: compileGlobs(scope.include, scope.exclude) }, scope]) {
        const counted = countedFiles(JSON.stringify(passed))
        const filter = reportFilter(scope)
        for (const hasSourceMap of [false, true]) {
          for (const path of PATHS) expect(counted(path, hasSourceMap), `${path} (source map: ${hasSourceMap})`).toBe(filter.script(path, hasSourceMap))
        }
      }
    })
  }

  test('without server globs (the runner decides when it reads): every file the rule does not exclude', () => {
    const counted = countedFiles(JSON.stringify({ cwd: '/root' }))
    const runnerSaysYes = reportFilter({ cwd: '/root', include: undefined, exclude: undefined }, () => true)
    for (const path of PATHS) expect(counted(path, false), path).toBe(runnerSaysYes.script(path, false))
  })
})

describe('globs compiled once (the agent matches them without picomatch)', () => {
  // The reference is picomatch's own matcher, as the rule used it before globs were compiled.
  const reference = (root: string, include: string[], exclude: string[]) => {
    const isMatch = picomatch(include.length ? include : ['**'], { dot: true, ignore: exclude })
    return (file: string): boolean => {
      const rel = relative(root, file)
      if (rel === '..' || rel.startsWith(`..${sep}`)) return include.length > 0 && isMatch(file)
      return isMatch(rel.split(sep).join('/'))
    }
  }
  const FILES = [
    ...PATHS, '/root/.hidden/x.js', '/root/src/.env.js', '/root/src/a+b.js', '/root/src/(x).js', '/root/src/[id].js', '/root/src/a.test.js',
    '/root/src/deep/deeper/z.cjs', '/root/lib/a.ts', '/root/server.mjs', '/root/index.js', '/root/src', '/root', '/elsewhere/other.js',
  ]
  const GLOBS: [string[], string[]][] = [
    [['src/**'], []], [['**/*.js'], ['**/*.test.js']], [['src/**/*.{js,mjs,cjs}', 'server.js'], ['src/generated/**', 'src/deep/deeper/**']],
    [['*.js'], []], [['src/[id].js', 'src/(x).js', 'src/a+b.js'], []], [['src/?.js'], []], [['/elsewhere/**'], []], [[], ['**/.*/**']],
    [['!(test)/**'], []], [['src/**', '!src/deep/**'], []], [['**'], ['src/**/!(a).js']],
  ]
  for (const [include, exclude] of GLOBS) {
    test(`include ${JSON.stringify(include)}, exclude ${JSON.stringify(exclude)}: picomatch's answer for every path`, () => {
      const compiled = globPredicate('/root', include, exclude)
      const expected = reference('/root', include, exclude)
      for (const file of FILES) expect(compiled(file), file).toBe(expected(file))
    })
  }
})
