import { describe, expect, test } from 'vitest'
import { collapseRepeats } from '../../src/launch/output-tail.js'

describe('collapseRepeats', () => {
  // Four workers printing the same traceback: one copy, and how many more there were.
  test('a block printed several times in a row is shown once', () => {
    const traceback = ['Traceback (most recent call last):', '  File "app.py", line 1', "ModuleNotFoundError: No module named 'x'"]
    const lines = ['starting', ...traceback, ...traceback, ...traceback, ...traceback, 'master exits']
    expect(collapseRepeats(lines)).toEqual(['starting', ...traceback, '(the 3 lines above, 3 more times)', 'master exits'])
  })

  test('lines that only look alike, or repeat once apart, are kept', () => {
    expect(collapseRepeats(['a', 'b', 'a', 'c'])).toEqual(['a', 'b', 'a', 'c'])
    expect(collapseRepeats(['x', 'x'])).toEqual(['x', '(the line above, 1 more time)'])
    expect(collapseRepeats(['', '', 'y'])).toEqual(['', '', 'y'])
  })
})
