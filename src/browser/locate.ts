import { existsSync, readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// Which file on disk a browser script or a source map's source is. A browser knows URLs, not
// paths: `http://127.0.0.1:3000/app.js` and a map's `../src/shared.js` or
// `webpack://app/./src/shared.js` must be found under the project. A file is only taken when its
// text is the text the browser ran (the served script, or the map's `sourcesContent`), so offsets
// are right; without `sourcesContent` the file at the path the map names is taken as it is.

/** A file found for a source, or why none was taken. */
export type Located = { path: string; text: string } | { changed: string } | undefined

const SCHEME_AND_HOST = /^[a-z][\w+.-]*:\/\/[^/]*\/?/i
/** Folders never searched for sources. */
const SKIPPED_DIRS = new Set(['node_modules', '.git'])
const MAX_INDEXED_FILES = 50_000

/** A relative path from a map source or URL path: no scheme, no leading `/`, `./` or `../`. */
export function relativePart(source: string): string {
  let rest = source.replace(SCHEME_AND_HOST, '').split(/[?#]/)[0]!
  while (/^(\.{1,2}\/|\/)/.test(rest)) rest = rest.replace(/^(\.{1,2}\/|\/)/, '')
  return rest
}

function ancestors(root: string, levels: number): string[] {
  const list = [root]
  for (let i = 0; i < levels && dirname(list.at(-1)!) !== list.at(-1); i++) list.push(dirname(list.at(-1)!))
  return list
}

/** Finds files for browser sources under the project's folders; caches what it read. */
export class FileLocator {
  readonly #roots: string[]
  readonly #texts = new Map<string, Promise<string | undefined>>()
  #index: Map<string, string[]> | undefined

  constructor(roots: readonly string[]) {
    this.#roots = [...new Set(roots)]
  }

  #read(path: string): Promise<string | undefined> {
    let text = this.#texts.get(path)
    if (!text) {
      text = readFile(path, 'utf8').catch(() => undefined)
      this.#texts.set(path, text)
    }
    return text
  }

  /** Paths the source names directly: itself when absolute, else under each root (or a parent of it). */
  #direct(source: string): string[] {
    if (source.startsWith('file://')) return [fileURLToPath(source)]
    if (isAbsolute(source) && existsSync(source)) return [source]
    const rest = relativePart(source)
    if (!rest) return []
    return this.#roots.flatMap((root) => ancestors(root, 2).map((base) => join(base, rest)))
  }

  /** Every file under the roots with this file name (built once, when a direct guess failed). */
  #byName(name: string): string[] {
    if (!this.#index) {
      this.#index = new Map()
      let count = 0
      const visit = (dir: string): void => {
        let entries
        try {
          entries = readdirSync(dir, { withFileTypes: true })
        } catch {
          return
        }
        for (const entry of entries) {
          if (count >= MAX_INDEXED_FILES) return
          if (entry.isDirectory()) {
            if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.')) visit(join(dir, entry.name))
          } else if (entry.isFile()) {
            count++
            const list = this.#index!.get(entry.name) ?? []
            list.push(join(dir, entry.name))
            this.#index!.set(entry.name, list)
          }
        }
      }
      for (const root of this.#roots) visit(root)
    }
    return this.#index.get(name) ?? []
  }

  /**
   * The file for `source` (a map's source or a script URL) whose text is `expected`; without
   * `expected`, the first file at a path the source names. `{ changed }` when that file exists
   * but holds other text (edited since the bundle was built).
   */
  async find(source: string, expected: string | undefined): Promise<Located> {
    const direct = [...new Set(this.#direct(source))]
    let changed: string | undefined
    for (const path of direct) {
      const text = await this.#read(path)
      if (text === undefined) continue
      if (expected === undefined || text === expected) return { path, text }
      changed ??= path
    }
    if (expected !== undefined) {
      const name = basename(relativePart(source))
      for (const path of name ? this.#byName(name) : []) {
        const text = await this.#read(path)
        if (text === expected) return { path, text }
      }
    }
    return changed === undefined ? undefined : { changed }
  }
}
