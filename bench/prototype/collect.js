// PROTOTYPE: the collector side: counters of every process (same instrumentation everywhere) added
// up per file, as V8 ScriptCovs (one function holding every range, outermost first), ready for the
// converter. A range's count is its counter's: V8 reads the innermost range at an offset.
export function scriptCovsFromCounts(dumps) {
  const byUrl = new Map()
  for (const dump of dumps) {
    for (const [url, { counts, ranges }] of Object.entries(dump)) {
      const total = byUrl.get(url)
      if (!total) byUrl.set(url, { counts: [...counts], ranges })
      else counts.forEach((count, index) => (total.counts[index] += count))
    }
  }
  return [...byUrl].map(([url, { counts, ranges }], scriptId) => ({
    scriptId: String(scriptId),
    url,
    functions: [
      {
        functionName: '',
        isBlockCoverage: true,
        ranges: ranges
          .map(([startOffset, endOffset], index) => ({ startOffset, endOffset, count: counts[index] }))
          .sort((a, b) => a.startOffset - b.startOffset || b.endOffset - a.endOffset),
      },
    ],
  }))
}
