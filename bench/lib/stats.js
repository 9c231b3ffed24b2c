// Small number helpers: medians over interleaved rounds, ratios, formatting.

/** Median of a list of numbers (mean of the two middle values for an even count). */
export function median(values) {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** Formats a number with `digits` decimals, or `—` when it is not a number. */
export function fmt(value, digits = 0) {
  return Number.isFinite(value) ? value.toFixed(digits) : '—'
}

/** `1.23×`, or `—`. */
export function ratio(value) {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '—'
}

/** Human size of a byte count. */
export function bytes(count) {
  if (!Number.isFinite(count)) return '—'
  if (count >= 1024 * 1024) return `${(count / 1024 / 1024).toFixed(1)} MB`
  if (count >= 1024) return `${(count / 1024).toFixed(1)} KB`
  return `${count} B`
}

/** A markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
