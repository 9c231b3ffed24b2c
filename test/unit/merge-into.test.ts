import type { BranchMapping, CoverageMapData, FileCoverageData, FunctionMapping, Range } from 'istanbul-lib-coverage'
import { describe, expect, test } from 'vitest'
import { addByLocation, mergeInto } from '../../src/coverage/merge-into.js'

const range = (line: number, start: number, end: number): Range => ({ start: { line, column: start }, end: { line, column: end } })
const fn = (name: string, line: number): FunctionMapping => ({ name, decl: range(line, 9, 12), loc: range(line, 0, 40), line })
const branch = (line: number, arms: number): BranchMapping => ({
  type: arms === 2 ? 'if' : 'switch',
  line,
  loc: range(line, 2, 30),
  locations: Array.from({ length: arms }, (_, i) => range(line + i, 4, 20)),
})

/** A small file: statements on lines 1-3, one function, one if on line 5. */
function file(path: string, s: number[], f: number[], b: number[]): FileCoverageData {
  return {
    path,
    statementMap: { 0: range(1, 0, 10), 1: range(2, 0, 10), 2: range(3, 0, 10) },
    fnMap: { 0: fn('handler', 4) },
    branchMap: { 0: branch(5, 2) },
    s: Object.fromEntries(s.map((hits, i) => [i, hits])),
    f: { 0: f[0]! },
    b: { 0: b },
  }
}

describe('addByLocation', () => {
  // Identical maps: every counter is summed, nothing unmatched.
  test('identical maps add counts', () => {
    const target = file('/a.js', [1, 0, 2], [3], [1, 0])
    const unmatched = addByLocation(target, file('/a.js', [4, 5, 0], [2], [0, 7]))
    expect(unmatched).toBe(0)
    expect(target.s).toEqual({ 0: 5, 1: 5, 2: 2 })
    expect(target.f).toEqual({ 0: 5 })
    expect(target.b).toEqual({ 0: [1, 7] })
  })

  // Matching is by location, not by id: a source with ids in another order lands on the right keys.
  test('matches by location whatever the ids', () => {
    const target = file('/a.js', [0, 0, 0], [0], [0, 0])
    const source: FileCoverageData = { ...file('/a.js', [0, 0, 0], [0], [0, 0]), statementMap: { 7: range(3, 0, 10), 8: range(1, 0, 10) }, s: { 7: 9, 8: 1 } }
    expect(addByLocation(target, source)).toBe(0)
    expect(target.s).toEqual({ 0: 1, 1: 0, 2: 9 })
  })

  // Locations the target lacks are never added; only the covered ones are counted.
  test('unknown statements, functions and branches are left out and counted only with hits', () => {
    const target = file('/a.js', [1, 1, 1], [1], [1, 1])
    const source: FileCoverageData = {
      path: '/a.js',
      statementMap: { 0: range(1, 0, 10), 1: range(9, 0, 10), 2: range(10, 0, 10) },
      fnMap: { 0: fn('other', 20), 1: fn('idle', 30) },
      branchMap: { 0: branch(40, 2), 1: branch(50, 2) },
      s: { 0: 2, 1: 3, 2: 0 },
      f: { 0: 1, 1: 0 },
      b: { 0: [0, 1], 1: [0, 0] },
    }
    // covered and unmatched: statement line 9, function `other`, branch line 40 → 3
    expect(addByLocation(target, source)).toBe(3)
    expect(target.s).toEqual({ 0: 3, 1: 1, 2: 1 })
    expect(Object.keys(target.statementMap)).toEqual(['0', '1', '2'])
    expect(target.f).toEqual({ 0: 1 })
    expect(Object.keys(target.fnMap)).toEqual(['0'])
    expect(target.b).toEqual({ 0: [1, 1] })
    expect(Object.keys(target.branchMap)).toEqual(['0'])
  })

  // Same branch location with another number of arms is a different branch: not merged.
  test('branch arrays of different length are not merged', () => {
    const target = file('/a.js', [0, 0, 0], [0], [2, 2])
    // same key (type, loc, locations) but 3 counters against 2
    const source = file('/a.js', [0, 0, 0], [0], [1, 1, 1])
    expect(addByLocation(target, source)).toBe(1)
    expect(target.b).toEqual({ 0: [2, 2] })
    // and not counted when none of its arms was hit
    expect(addByLocation(target, file('/a.js', [0, 0, 0], [0], [0, 0, 0]))).toBe(0)
  })
})

describe('mergeInto', () => {
  // New files are added as they are, shared files merged, and only files with covered leftovers reported.
  test('adds new files, merges shared ones, reports unmatched per file', () => {
    const target: CoverageMapData = { '/a.js': file('/a.js', [1, 0, 0], [1], [1, 0]) as never }
    const extra = file('/b.js', [0, 0, 0], [0], [0, 0])
    const shifted: FileCoverageData = { ...file('/a.js', [0, 0, 0], [0], [0, 0]), statementMap: { 0: range(1, 0, 10), 1: range(99, 0, 1) }, s: { 0: 1, 1: 4 } }
    const unmatched = mergeInto(target, { '/a.js': shifted as never, '/b.js': extra as never })
    expect([...unmatched]).toEqual([['/a.js', 1]])
    expect(Object.keys(target).sort()).toEqual(['/a.js', '/b.js'])
    expect((target['/a.js'] as FileCoverageData).s).toEqual({ 0: 2, 1: 0, 2: 0 })
    expect(target['/b.js']).toBe(extra)
  })

  // A clean merge reports nothing.
  test('empty result when everything lines up', () => {
    const target: CoverageMapData = { '/a.js': file('/a.js', [1, 1, 1], [1], [1, 1]) as never }
    expect(mergeInto(target, { '/a.js': file('/a.js', [1, 1, 1], [1], [1, 1]) as never }).size).toBe(0)
    expect((target['/a.js'] as FileCoverageData).b).toEqual({ 0: [2, 2] })
  })
})

describe('mergeInto: the rules every front end shares', () => {
  // Several servers (or projects) running one file add up: 3 + 5 = 8, never one overwriting the other.
  test('the same file from several sources adds up', () => {
    const target: CoverageMapData = {}
    mergeInto(target, { '/shared.js': file('/shared.js', [3, 0, 1], [3], [3, 0]) as never })
    mergeInto(target, { '/shared.js': file('/shared.js', [5, 0, 0], [5], [0, 5]) as never })
    const merged = target['/shared.js'] as FileCoverageData
    expect(merged.s).toEqual({ 0: 8, 1: 0, 2: 1 })
    expect(merged.f).toEqual({ 0: 8 })
    expect(merged.b).toEqual({ 0: [3, 5] })
  })

  // An untested-file placeholder (no hit anywhere) takes the source's map instead of dropping its hits.
  test('a placeholder without hits is replaced by the source, whatever its map', () => {
    const placeholder: FileCoverageData = { ...file('/a.ts', [0, 0, 0], [0], [0, 0]), statementMap: { 0: range(7, 0, 3), 1: range(8, 0, 3), 2: range(9, 0, 3) } }
    const server = file('/a.ts', [2, 1, 0], [1], [1, 0])
    const target: CoverageMapData = { '/a.ts': placeholder as never }
    expect(mergeInto(target, { '/a.ts': server as never }).size).toBe(0)
    expect(target['/a.ts']).toBe(server)
  })

  test('Infinity and null end columns are the same location (data read back from JSON)', () => {
    const open = (line: number): Range => ({ start: { line, column: 0 }, end: { line, column: Infinity } })
    const closed = (line: number): Range => ({ start: { line, column: 0 }, end: { line, column: null as unknown as number } })
    const a: FileCoverageData = { ...file('/a.js', [1, 1, 1], [0], [0, 0]), statementMap: { 0: open(1), 1: open(2), 2: open(3) } }
    const b: FileCoverageData = { ...file('/a.js', [1, 1, 1], [0], [0, 0]), statementMap: { 0: closed(1), 1: closed(2), 2: closed(3) } }
    const target: CoverageMapData = { '/a.js': a as never }
    expect(mergeInto(target, { '/a.js': b as never }).size).toBe(0)
    expect((target['/a.js'] as FileCoverageData).s).toEqual({ 0: 2, 1: 2, 2: 2 })
  })
})
