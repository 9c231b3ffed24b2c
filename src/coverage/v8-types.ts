/** V8 precise coverage, as written by `NODE_V8_COVERAGE` (one `ProcessCov` per file). */
export interface RangeCov {
  startOffset: number
  endOffset: number
  count: number
}

export interface FunctionCov {
  functionName: string
  ranges: RangeCov[]
  isBlockCoverage: boolean
}

export interface ScriptCov {
  scriptId: string
  url: string
  functions: FunctionCov[]
}

export interface ProcessCov {
  result: ScriptCov[]
}

/** Node's `source-map-cache` entry: the source map of a script, keyed by its `file://` URL. */
export interface SourceMapCacheEntry {
  lineLengths?: number[]
  data?: SourceMapData | null
  url?: string | null
}

export interface SourceMapData {
  version: number
  sources: (string | null)[]
  sourcesContent?: (string | null)[]
  mappings: string
  names?: string[]
  file?: string
  sourceRoot?: string
}

/** One coverage file as Node writes it. */
export interface NodeCoverageFile extends ProcessCov {
  'source-map-cache'?: Record<string, SourceMapCacheEntry>
}
