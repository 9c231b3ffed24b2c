import type { CoverageMapData } from 'istanbul-lib-coverage'
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { ServerCoverageError } from '../errors.js'

/** One `from=to` rewrite of path prefixes, like Coverage.py's `[paths]`. */
export interface PathMapping {
  from: string
  to: string
}

/** The portable form of saved server data: paths relative to the checkout that produced them. */
interface SavedData {
  format: 'server-coverage/v1'
  data: CoverageMapData
}

const SAVED_NAME = 'server-coverage.json'

/** Makes every path in `data` relative to `root` (files outside it stay absolute). */
export function relativise(data: CoverageMapData, root: string): CoverageMapData {
  const out: CoverageMapData = {}
  for (const [file, fileCoverage] of Object.entries(data)) {
    const rel = relative(root, file)
    const key = rel.startsWith(`..${sep}`) || isAbsolute(rel) ? file : rel.split(sep).join('/')
    out[key] = { ...(fileCoverage as object), path: key } as CoverageMapData[string]
  }
  return out
}

/** Rewrites path prefixes (`--path-map`), then resolves relative paths against `root`. */
export function absolutise(data: CoverageMapData, root: string, mappings: readonly PathMapping[]): CoverageMapData {
  const out: CoverageMapData = {}
  for (const [file, fileCoverage] of Object.entries(data)) {
    let path = file
    for (const { from, to } of mappings) {
      if (path === from || path.startsWith(from.endsWith('/') ? from : `${from}/`)) {
        path = to + path.slice(from.length)
        break
      }
    }
    path = isAbsolute(path) ? path : resolve(root, path)
    out[path] = { ...(fileCoverage as object), path } as CoverageMapData[string]
  }
  return out
}

/** Saves server data into `dir` in the portable form. */
export async function saveData(dir: string, data: CoverageMapData, root: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const file = join(dir, SAVED_NAME)
  const saved: SavedData = { format: 'server-coverage/v1', data: relativise(data, root) }
  await writeFile(file, JSON.stringify(saved))
  return file
}

/**
 * Loads coverage from a saved-data folder, a `server-coverage.json` or any istanbul
 * `coverage-final.json` (e.g. another runner's report), applying `mappings` and resolving relative
 * paths against `root`.
 */
export async function loadCoverage(input: string, root: string, mappings: readonly PathMapping[]): Promise<CoverageMapData> {
  let file = resolve(root, input)
  let info
  try {
    info = await stat(file)
  } catch {
    throw new ServerCoverageError('INVALID_OPTION', `${input} does not exist. Give a folder written with --data-dir, or a coverage-final.json.`)
  }
  if (info.isDirectory()) {
    const names = await readdir(file)
    const name = names.includes(SAVED_NAME) ? SAVED_NAME : names.includes('coverage-final.json') ? 'coverage-final.json' : undefined
    if (!name) throw new ServerCoverageError('INVALID_OPTION', `${input} holds neither ${SAVED_NAME} nor coverage-final.json.`)
    file = join(file, name)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch (cause) {
    throw new ServerCoverageError('INVALID_OPTION', `${file} is not valid JSON coverage data.`, { cause })
  }
  const data = (parsed as SavedData).format === 'server-coverage/v1' ? (parsed as SavedData).data : (parsed as CoverageMapData)
  if (data === null || typeof data !== 'object') throw new ServerCoverageError('INVALID_OPTION', `${file} is not istanbul coverage data.`)
  return absolutise(data, root, mappings)
}

/** Writes istanbul data as JSON, creating the folder. */
export async function writeCoverageJson(file: string, data: CoverageMapData): Promise<void> {
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, JSON.stringify(data))
}
