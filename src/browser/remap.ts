import type { Run } from './runs.js'
import { runsOf } from './runs.js'

// Carries a bundle's execution counts back to the original files through its source map, as
// counts per character of each original file (not as a statement map of the bundle): the
// converter then builds the statement map from the original file exactly as it does for the
// server, so a module both sides run is one entry and the counts add by location.
//
// A mapping segment says "generated position g is original position o". Bundlers copy a token
// (and usually the rest of the statement up to the next segment) verbatim, so from each segment
// the generated and the original text are walked side by side, up to whichever comes first: the
// next original segment or the end of the generated segment. What the walk does not reach takes
// the count of the nearest reached character to its left on the same original line (a block's
// `{` and the rest of its line); anything else ran 0 times in the browser: code the bundler left
// out (tree-shaken exports), imports, comments.

/** One decoded mapping segment: `[generatedColumn, sourceIndex, originalLine, originalColumn, name?]`. */
export type Segment = readonly number[]

/** What one original file received from a bundle. */
export interface RemappedSource {
  runs: Run[]
  /** Segments pointing past the end of a line or of the file: the map does not describe this text. */
  outOfRange: number
}

/** Offsets at which each line of `text` starts. */
export function lineStarts(text: string): number[] {
  const starts = [0]
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) starts.push(index + 1)
  return starts
}

/** The generated script: its text and the count of each of its characters (`paintCounts`). */
interface Generated {
  code: string
  counts: ArrayLike<number>
}

interface Anchor {
  original: number
  generated: number
  /** Characters up to the next generated segment (or the end of the generated line). */
  extent: number
}

function anchorsBySource(code: string, mappings: readonly (readonly Segment[])[], originals: ReadonlyMap<number, string>): { anchors: Map<number, Anchor[]>; outOfRange: Map<number, number> } {
  const generatedStarts = lineStarts(code)
  const originalStarts = new Map([...originals].map(([index, text]) => [index, lineStarts(text)]))
  const anchors = new Map<number, Anchor[]>([...originals.keys()].map((index) => [index, []]))
  const outOfRange = new Map<number, number>()
  mappings.forEach((segments, line) => {
    const lineStart = generatedStarts[line]
    if (lineStart === undefined) return
    const lineEnd = (generatedStarts[line + 1] ?? code.length + 1) - 1
    segments.forEach((segment, index) => {
      const [column, source, originalLine, originalColumn] = segment
      if (source === undefined || originalLine === undefined || originalColumn === undefined) return
      const starts = originalStarts.get(source)
      const text = originals.get(source)
      if (!starts || text === undefined) return
      const start = starts[originalLine]
      const end = (starts[originalLine + 1] ?? text.length + 1) - 1
      if (start === undefined || start + originalColumn > end) {
        outOfRange.set(source, (outOfRange.get(source) ?? 0) + 1)
        return
      }
      const next = segments[index + 1]
      const generated = lineStart + column!
      anchors.get(source)!.push({ original: start + originalColumn, generated, extent: Math.max(0, (next ? lineStart + next[0]! : lineEnd) - generated) })
    })
  })
  return { anchors, outOfRange }
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9
}

/**
 * Walks the original text from `from` (to `to`) beside the generated text of `anchor`, giving each
 * original character the count of the generated character it lines up with. Whitespace is not
 * matched (bundlers re-indent: a segment often starts at the indentation before its token).
 */
function walk(generated: Generated, text: string, from: number, to: number, anchor: Anchor, assign: (position: number, count: number) => void): void {
  let original = from
  let at = anchor.generated
  const end = anchor.generated + anchor.extent
  while (original < to && at < end) {
    const originalSpace = isSpace(text.charCodeAt(original))
    const generatedSpace = isSpace(generated.code.charCodeAt(at))
    if (generatedSpace && !originalSpace) {
      at++
      continue
    }
    assign(original, generated.counts[at] ?? 0)
    original++
    if (originalSpace === generatedSpace) at++
  }
}

/** Counts of one original file from the anchors into it. */
function remapOne(generated: Generated, text: string, anchors: Anchor[]): Run[] {
  anchors.sort((a, b) => a.original - b.original || a.generated - b.generated)
  const original = new Float64Array(text.length).fill(-1)
  for (let i = 0; i < anchors.length; ) {
    const at = anchors[i]!.original
    let j = i
    while (j < anchors.length && anchors[j]!.original === at) j++
    const windowEnd = anchors[j]?.original ?? text.length
    // Several generated places for one original position (code a bundler copied or lowered): the
    // highest count, never a sum that would count one execution twice.
    for (const anchor of anchors.slice(i, j)) {
      walk(generated, text, at, windowEnd, anchor, (position, count) => {
        if (count > original[position]!) original[position] = count
      })
    }
    i = j
  }
  let left = -1
  for (let position = 0; position < text.length; position++) {
    if (original[position]! >= 0) left = original[position]!
    else original[position] = Math.max(left, 0)
    if (text.charCodeAt(position) === 10) left = -1
  }
  return runsOf(original)
}

/**
 * Counts per character of each original file in `originals` (by source index) from a generated
 * script's counts (`paintCounts`) and its decoded source map mappings.
 */
export function remapCounts(code: string, counts: ArrayLike<number>, mappings: readonly (readonly Segment[])[], originals: ReadonlyMap<number, string>): Map<number, RemappedSource> {
  const { anchors, outOfRange } = anchorsBySource(code, mappings, originals)
  const remapped = new Map<number, RemappedSource>()
  for (const [source, text] of originals) {
    remapped.set(source, { runs: remapOne({ code, counts }, text, anchors.get(source) ?? []), outOfRange: outOfRange.get(source) ?? 0 })
  }
  return remapped
}
