/**
 * The ES-module side of counting on load where `module.registerHooks` does not exist (Node 20): a
 * `module.register` load hook, run in Node's hooks thread, that instruments the included `file:`
 * ES modules (counting.cts has the CommonJS side, the in-thread hook of newer Nodes and the counters).
 */
import instrumentModule from './instrument.cjs'
import scopeModule from './scope.cjs'

type LoadResult = ReturnType<typeof instrumentModule.instrumentLoadResult>
type NextLoad = (url: string, context: unknown) => Promise<LoadResult>

let included: (file: string, hasSourceMap: boolean) => boolean = () => false

/** Receives the scope from `module.register` (counting.cts). */
export function initialize(data: { scope?: string } | undefined): void {
  included = scopeModule.countedFiles(data?.scope)
}

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  return instrumentModule.instrumentLoadResult(url, await nextLoad(url, context), included)
}
