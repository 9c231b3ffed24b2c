import type { PlainPlan } from './convert-plain.js'
import type { PackedPlan } from './plan-pack.js'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CACHE_DIR_ENV, cacheRoot, prepareCacheDir } from '../cache-dir.js'
import entries from '../cache-entry.cjs'
import { pack, unpack } from './plan-pack.js'

// Conversion plans kept on disk (convert-plain.ts makes them: parsing and walking a file is most of
// a conversion, bench/RESULTS.md section 2B). In memory a plan serves the next collection of the
// same code in watch mode; on disk it serves the next run, which is a fresh process (`vitest run`,
// the CLI, every CI job): unchanged files are converted without a parse.
//
// An entry (its compact form: plan-pack.ts) is used only for the same code (its sha256: storing
// the code itself doubled what a first run writes), made by the same converter build (plan-id.txt,
// a digest of convert-plain.js, identity-locator.js and plan-pack.js written by the build: any
// change to what they plan or store changes it) with the same parser (its `cacheKey`: a parser
// without one, or a build without the id, is never cached on disk). Every error falls back to
// planning; nothing is ever said about the cache.

/** A parser that plans may be stored for across processes: `cacheKey` names it and its version. */
export interface KeyedParser {
  cacheKey?: string
}

interface Header {
  converter: string
  parser: string
  path: string
  /** sha256 of the code the plan was made from. */
  code: string
}

const converterId = ((): string | undefined => {
  try {
    return readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'plan-id.txt'), 'utf8').trim() || undefined
  } catch {
    return undefined
  }
})()

/**
 * A CI job (`CI` set, as every CI service sets it) usually starts from a fresh `node_modules`, so
 * a first run's plans are never read, and storing them costs that run ~10 % of a wide conversion
 * (bench/RESULTS.md). There, plans are kept only where `SERVER_COVERAGE_CACHE_DIR` names a folder
 * (one the job caches between runs).
 */
function ephemeral(): boolean {
  const ci = process.env.CI
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false' && !process.env[CACHE_DIR_ENV]
}

/**
 * The plans folder of this process (its working directory's project), made once, and the entries
 * it had then: a lookup of an entry that is not there costs no failed read (an ENOENT throw per
 * file was 15 % of what a first run added). Null: no disk cache.
 */
let folder: { dir: string; present: Set<string> } | null | undefined

function plans(): { dir: string; present: Set<string> } | undefined {
  if (folder === undefined) {
    const root = converterId && !ephemeral() ? cacheRoot(process.cwd()) : undefined
    const dir = root === undefined ? undefined : join(root, 'plans')
    folder = null
    try {
      if (dir !== undefined && prepareCacheDir(root!) && prepareCacheDir(dir)) folder = { dir, present: new Set(readdirSync(dir)) }
    } catch {
      // unreadable: no disk cache for this process
    }
  }
  return folder ?? undefined
}

const digest = (code: string): string => createHash('sha256').update(code).digest('base64')

const { fnv1a, writeEntry } = entries
const entryName = (path: string, parser: string): string => `${fnv1a(path)}-${fnv1a(parser)}.plan`

/** The stored plan of `code` (the file at `path`) for `parse`, or undefined. */
export function readStoredPlan(path: string, code: string, parse: KeyedParser): PlainPlan | undefined {
  const store = parse.cacheKey ? plans() : undefined
  if (!store || !parse.cacheKey) return undefined
  const name = entryName(path, parse.cacheKey)
  if (!store.present.has(name)) return undefined
  try {
    const text = readFileSync(join(store.dir, name), 'utf8')
    const newline = text.indexOf('\n')
    const header = JSON.parse(text.slice(0, newline)) as Header
    if (header.converter !== converterId || header.parser !== parse.cacheKey || header.path !== path || header.code !== digest(code)) return undefined
    return unpack(JSON.parse(text.slice(newline + 1)) as PackedPlan)
  } catch {
    return undefined
  }
}

/**
 * Stores `plan`, made from `code` (the file at `path`) with `parse` (src/cache-entry.cts writes it
 * atomically). Synchronous: written through Node's
 * thread pool, the entries of a first run cost it more (the pool's threads take the cores the
 * conversion needs; measured).
 */
export function storePlan(path: string, code: string, parse: KeyedParser, plan: PlainPlan): void {
  const store = parse.cacheKey ? plans() : undefined
  if (!store || !parse.cacheKey) return
  const packed = pack(plan)
  if (!packed) return
  const name = entryName(path, parse.cacheKey)
  const header: Header = { converter: converterId!, parser: parse.cacheKey, path, code: digest(code) }
  if (writeEntry(join(store.dir, name), `${JSON.stringify(header)}\n${JSON.stringify(packed)}`)) store.present.add(name)
}
