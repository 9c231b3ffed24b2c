import type { SessionRead, ServerRead } from '../collect.js'
import type { RawCoverage } from '../runtimes/types.js'
import { mergeProcessCovs } from './merge-v8.js'
import { mergeInto } from './merge-into.js'

/** Adds one raw part onto another of the same form: V8 merged as raw V8 (never converted deltas), istanbul by the merge rule. */
export function addRaw(target: RawCoverage, source: RawCoverage): RawCoverage {
  if (target.format === 'v8' && source.format === 'v8') {
    return {
      format: 'v8',
      scripts: mergeProcessCovs([{ result: target.scripts }, { result: source.scripts }]).result,
      sourceMaps: { ...target.sourceMaps, ...source.sourceMaps },
      sourcesDirs: [...new Set([...target.sourcesDirs, ...source.sourcesDirs])],
    }
  }
  if (target.format === 'istanbul' && source.format === 'istanbul') {
    mergeInto(target.data, source.data, source.counts ?? 'executions')
    return target
  }
  throw new Error(`cannot add ${source.format} coverage to ${target.format} coverage`)
}

/**
 * Sums reads: what a consumer that reads less often than the session (a `serve`'s snapshot, a
 * runner attached to it) is owed since its own previous take. Each read is copied in, so one
 * read can feed several accumulators without them sharing (and later mutating) its objects.
 */
export class ReadAccumulator {
  #servers = new Map<string, ServerRead>()
  #processes = 0
  #files = 0
  #unanswered = 0

  add(read: SessionRead): void {
    const copy = structuredClone(read)
    for (const server of copy.servers) {
      const key = `${server.name}\0${server.coverage.format}`
      const existing = this.#servers.get(key)
      this.#servers.set(key, existing ? { ...existing, coverage: addRaw(existing.coverage, server.coverage) } : server)
    }
    this.#processes = Math.max(this.#processes, copy.processes)
    this.#files += copy.files
    this.#unanswered += copy.unanswered
  }

  /** What was added since the previous take (or since the accumulator was made); resets it. */
  take(): SessionRead {
    const read = this.peek()
    this.#servers = new Map()
    this.#files = 0
    this.#unanswered = 0
    return read
  }

  /** What was added so far, without resetting (a copy). */
  peek(): SessionRead {
    return structuredClone({ servers: [...this.#servers.values()], processes: this.#processes, files: this.#files, unanswered: this.#unanswered })
  }
}
