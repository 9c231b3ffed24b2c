import type { PathMapping } from '../report/saved-data.js'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isAbsolute, join, resolve, sep } from 'node:path'

function sha1Of(path: string): string | undefined {
  try {
    return createHash('sha1').update(readFileSync(path)).digest('hex')
  } catch {
    return undefined
  }
}

/**
 * Maps the paths a server reports on its own machine (a container's `/app/src/x.js`) to files of
 * this checkout (`<root>/src/x.js`):
 * 1. the `--path-map` prefixes, first match wins;
 * 2. the same path, when it exists here with the same content;
 * 3. by content: the agents send a hash of each file; the shortest tail of the remote path that
 *    names a file under `root` with that hash gives a prefix rewrite (`/app` → `root`), which then
 *    maps every other file under that prefix without looking again.
 * A path none of these map is said once, and its coverage left out.
 */
export class PathMapper {
  readonly #root: string
  readonly #explicit: PathMapping[]
  readonly #learned: PathMapping[] = []
  readonly #hashes = new Map<string, string>()
  readonly #unmapped = new Set<string>()
  readonly #log: (line: string) => void

  constructor(root: string, explicit: readonly PathMapping[], log: (line: string) => void) {
    this.#root = root
    this.#explicit = explicit.map(({ from, to }) => ({ from: from.replace(/\/+$/, ''), to: resolve(root, to) }))
    this.#log = log
  }

  /** Records the agents' hashes of their files (path on their machine → sha1). */
  learn(hashes: Record<string, string>): void {
    for (const [path, hash] of Object.entries(hashes)) if (typeof hash === 'string') this.#hashes.set(path, hash)
  }

  static #rewrite(path: string, mappings: readonly PathMapping[]): string | undefined {
    for (const { from, to } of mappings) {
      if (path === from) return to
      if (path.startsWith(`${from}/`)) return join(to, path.slice(from.length + 1))
    }
    return undefined
  }

  /** The local file for a path on the server's machine, or undefined (said once) when there is none. */
  map(remote: string): string | undefined {
    const explicit = PathMapper.#rewrite(remote, this.#explicit) ?? PathMapper.#rewrite(remote, this.#learned)
    if (explicit) return explicit
    const hash = this.#hashes.get(remote)
    if (isAbsolute(remote) && remote.startsWith(this.#root + sep) && (hash === undefined || sha1Of(remote) === hash)) return remote
    if (hash !== undefined) {
      const parts = remote.split('/').filter(Boolean)
      for (let skip = parts.length - 1; skip >= 0; skip--) {
        // Longest tail first: the fewer folders are assumed away, the less likely an accidental match.
        const tail = parts.slice(parts.length - 1 - skip).join('/')
        const local = join(this.#root, tail)
        if (sha1Of(local) !== hash) continue
        const from = `/${parts.slice(0, parts.length - 1 - skip).join('/')}`.replace(/\/$/, '')
        const to = local.slice(0, local.length - tail.length).replace(/\/$/, '')
        if (from) {
          this.#learned.push({ from, to })
          this.#log(`mapped the servers' ${from}/… to ${to}/… (matched ${tail} by content)`)
        }
        return local
      }
    }
    if (!this.#unmapped.has(remote)) {
      this.#unmapped.add(remote)
      this.#log(`could not map ${remote} (reported by a network agent) to a file of ${this.#root} with the same content: its coverage is left out. Give --path-map <server folder>=<local folder>.`)
    }
    return undefined
  }
}
