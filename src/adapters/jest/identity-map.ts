import type { SourceMapData } from '../../coverage/v8-types.js'

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** One base64 VLQ number, as source maps encode each field of a segment. */
function vlq(value: number): string {
  let rest = value < 0 ? (-value << 1) | 1 : value << 1
  let out = ''
  do {
    let digit = rest & 31
    rest >>>= 5
    if (rest > 0) digit |= 32
    out += BASE64[digit]
  } while (rest > 0)
  return out
}

/**
 * A source map from `code` to itself (as `source`), with a segment at every column. Jest's v8
 * provider maps every V8 range through the file's source map: with one segment per column each
 * position maps to itself, so the converted ranges are exactly those of an unmapped conversion.
 * (A segment per line would move range starts to column 0.)
 */
export function identitySourceMap(code: string, source: string): SourceMapData {
  const lines = code.split('\n')
  let previousLine = 0
  let previousColumn = 0
  const mappings = lines.map((line, lineIndex) => {
    const length = line.replace(/\r$/, '').length
    if (length === 0) return ''
    // First segment: generated column 0, source 0, this line, column 0 (fields are deltas).
    let segments = `A${vlq(0)}${vlq(lineIndex - previousLine)}${vlq(-previousColumn)}`
    // Every next column: one generated column and one source column further.
    segments += ',CAAC'.repeat(length - 1)
    previousLine = lineIndex
    previousColumn = length - 1
    return segments
  })
  return { version: 3, sources: [source], sourcesContent: [code], names: [], mappings: mappings.join(';') }
}
