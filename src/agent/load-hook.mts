/**
 * The ES-module side of counting on load: a `module.register` load hook (it runs in Node's hooks
 * thread) that instruments the included `file:` ES modules (counting.cts has the CommonJS side and
 * the counters). CommonJS files go through `Module.prototype._compile` even when imported, so
 * only `module` format is handled here.
 */
import { fileURLToPath } from 'node:url'
import instrumentModule from './instrument.cjs'
import scopeModule from './scope.cjs'

interface LoadResult {
  format?: string | null
  source?: string | ArrayBuffer | ArrayBufferView | null
  shortCircuit?: boolean
}
type NextLoad = (url: string, context: unknown) => Promise<LoadResult>

let included: (file: string, hasSourceMap: boolean) => boolean = () => false

/** Receives the scope from `module.register` (counting.cts). */
export function initialize(data: { scope?: string } | undefined): void {
  included = scopeModule.countedFiles(data?.scope)
}

function text(source: string | ArrayBuffer | ArrayBufferView): string {
  if (typeof source === 'string') return source
  return ArrayBuffer.isView(source) ? Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8') : Buffer.from(source).toString('utf8')
}

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  const result = await nextLoad(url, context)
  if (!url.startsWith('file:') || result.format !== 'module' || result.source == null) return result
  const instrumented = instrumentModule.instrumentLoaded(text(result.source), fileURLToPath(url), url, included)
  return instrumented ? { ...result, source: instrumented.code } : result
}
