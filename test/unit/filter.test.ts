import { describe, expect, test } from 'vitest'
import { createFileFilter, globPredicate } from '../../src/coverage/filter.js'

describe('globPredicate', () => {
  test('files under root whose name starts with two dots are inside root', () => {
    const inRoot = globPredicate('/root', undefined, undefined)
    expect(inRoot('/root/..cache/a.js')).toBe(true)
    expect(inRoot('/root/src/a.js')).toBe(true)
    expect(inRoot('/elsewhere/a.js')).toBe(false)
  })

  test('include and exclude globs are matched relative to root', () => {
    const predicate = globPredicate('/root', ['src/**'], ['src/generated/**'])
    expect(predicate('/root/src/a.js')).toBe(true)
    expect(predicate('/root/src/generated/b.js')).toBe(false)
    expect(predicate('/root/server.js')).toBe(false)
  })
})

describe('createFileFilter', () => {
  const filter = createFileFilter(() => true, ['/pkg/dist'])
  test('never accepts node_modules or our own files, whatever the predicate says', () => {
    expect(filter.accepts('/root/node_modules/express/index.js')).toBe(false)
    expect(filter.accepts('/pkg/dist/agent/preload.cjs')).toBe(false)
    expect(filter.accepts('/root/src/a.js')).toBe(true)
  })

  test('keeps a mapped script for later even when its own path is not included', () => {
    const onlySrc = createFileFilter((path) => path.startsWith('/root/src/'), [])
    expect(onlySrc.script('/root/dist/server.js', true)).toBe(true)
    expect(onlySrc.script('/root/dist/server.js', false)).toBe(false)
    expect(onlySrc.accepts('/root/dist/server.js')).toBe(false)
  })
})
