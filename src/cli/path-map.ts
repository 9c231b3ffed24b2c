import type { PathMapping } from '../report/saved-data.js'
import { UsageError } from './usage.js'

/** `--path-map FROM=TO` values (repeatable), like Coverage.py's `[paths]`. */
export function pathMappings(values: readonly string[]): PathMapping[] {
  return values.map((value) => {
    const equals = value.indexOf('=')
    if (equals <= 0) throw new UsageError(`expected the \`--path-map\` option as FROM=TO, got \`${value}\``)
    return { from: value.slice(0, equals), to: value.slice(equals + 1) }
  })
}
