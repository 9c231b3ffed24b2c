import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { globPredicate, neverReported, reportFilter } from '../../src/coverage/filter.js'

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

describe('globPredicate', () => {
  test('files under root whose name starts with two dots are inside root', () => {
    const inRoot = globPredicate('/root', undefined, undefined)
    expect(inRoot('/root/..cache/a.js')).toBe(true)
    expect(inRoot('/root/src/a.js')).toBe(true)
    expect(inRoot('/elsewhere/a.js')).toBe(false)
  })

  test('include and exclude globs are matched relative to root, braces included', () => {
    const predicate = globPredicate('/root', ['src/**/*.{js,ts}'], ['src/generated/**'])
    expect(predicate('/root/src/a.js')).toBe(true)
    expect(predicate('/root/src/deep/b.ts')).toBe(true)
    expect(predicate('/root/src/c.json')).toBe(false)
    expect(predicate('/root/src/generated/b.js')).toBe(false)
    expect(predicate('/root/server.js')).toBe(false)
  })
})

describe('reportFilter: the one rule', () => {
  const everything = (): boolean => true
  test('rule 1: node_modules and our own package are never reported, whatever the globs or the runner say', () => {
    const filter = reportFilter({ cwd: '/root', include: ['**'], exclude: undefined }, everything)
    expect(filter.accepts('/root/node_modules/express/index.js')).toBe(false)
    expect(neverReported(join(PACKAGE, 'dist', 'agent', 'preload.cjs'))).toBe(true)
    expect(neverReported(join(PACKAGE, 'python', 'uwsgi_hook.py'))).toBe(true)
    expect(filter.accepts('/root/src/a.js')).toBe(true)
  })

  test("rule 2: a server's own include/exclude decide its files, not the runner's predicate", () => {
    const filter = reportFilter({ cwd: '/root', include: ['server/**'], exclude: undefined }, (path) => path.startsWith('/root/src/'))
    expect(filter.accepts('/root/server/app.js')).toBe(true)
    expect(filter.accepts('/root/src/a.js')).toBe(false)
  })

  test("rule 3: without globs of its own, the runner's predicate decides", () => {
    const filter = reportFilter({ cwd: '/root', include: undefined, exclude: undefined }, (path) => path.startsWith('/root/src/'))
    expect(filter.accepts('/root/src/a.js')).toBe(true)
    expect(filter.accepts('/root/server.js')).toBe(false)
  })

  test('rule 4: without either, every file under cwd', () => {
    const filter = reportFilter({ cwd: '/root', include: undefined, exclude: undefined })
    expect(filter.accepts('/root/server.js')).toBe(true)
    expect(filter.accepts('/other/server.js')).toBe(false)
  })

  test('keeps a mapped script for later even when its own path is not included', () => {
    const onlySrc = reportFilter({ cwd: '/root', include: ['src/**'], exclude: undefined })
    expect(onlySrc.script('/root/dist/server.js', true)).toBe(true)
    expect(onlySrc.script('/root/dist/server.js', false)).toBe(false)
    expect(onlySrc.accepts('/root/dist/server.js')).toBe(false)
  })
})
