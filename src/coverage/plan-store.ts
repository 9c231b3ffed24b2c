import type { PlainPlan } from './convert-plain.js'
import type { PackedPlan } from './plan-pack.js'
import { createHash } from 'node:crypto'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cacheRoot, prepareCacheDir } from '../cache-dir.js'
import { pack, unpack } from './plan-pack.js'

// Conversion plans kept on disk (convert-plain.ts makes them: parsing and walking a file is most of
// a conversion, bench/RESULTS.md section 2B). In memory a plan serves the next collection of the
// same code in watch mode; on disk it serves the next run, which is a fresh process (`vitest run`,
// the CLI, every CI job): unchanged files are converted without a parse.
//
// An entry (its compact form: plan-pack.ts) is used only for the same code (its sha256: storing
// the code itself doubled what a first run writes), made by the same converter build (plan-id.txt,
// a digest of convert-plain.js and identity-locator.js written by the build: any change to what
// they plan changes it) with the same parser (its `cacheKey`: a parser
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

/** The plans folder of this process (its working directory's project), made once; undefined: no disk cache. */
let folder: string | null | undefined

function plansDir(): string | undefined {
  if (folder === undefined) {
    const root = converterId ? cacheRoot(process.cwd()) : undefined
    const dir = root === undefined ? undefined : join(root, 'plans')
    folder = dir !== undefined && prepareCacheDir(root!) && prepareCacheDir(dir) ? dir : null
  }
  return folder ?? undefined
}

const digest = (code: string): string => createHash('sha256').update(code).digest('base64')

/** 32-bit FNV-1a: entry names only; the entry itself says what it is for. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return (hash >>> 0).toString(16).padStart(8, '0')
}

const entryPath = (dir: string, path: string, parser: string): string => join(dir, `${fnv1a(path)}-${fnv1a(parser)}.plan`)

/** The stored plan of `code` (the file at `path`) for `parse`, or undefined. */
export function readStoredPlan(path: string, code: string, parse: KeyedParser): PlainPlan | undefined {
  const dir = parse.cacheKey ? plansDir() : undefined
  if (!dir || !parse.cacheKey) return undefined
  try {
    const text = readFileSync(entryPath(dir, path, parse.cacheKey), 'utf8')
    const newline = text.indexOf('\n')
    const header = JSON.parse(text.slice(0, newline)) as Header
    if (header.converter !== converterId || header.parser !== parse.cacheKey || header.path !== path || header.code !== digest(code)) return undefined
    return unpack(JSON.parse(text.slice(newline + 1)) as PackedPlan)
  } catch {
    return undefined
  }
}

/** Stores `plan`, made from `code` (the file at `path`) with `parse`: a temp file renamed into place, so a reader sees a whole entry or none. */
export function storePlan(path: string, code: string, parse: KeyedParser, plan: PlainPlan): void {
  const dir = parse.cacheKey ? plansDir() : undefined
  if (!dir || !parse.cacheKey) return
  const entry = entryPath(dir, path, parse.cacheKey)
  const temp = `${entry}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`
  const packed = pack(plan)
  if (!packed) return
  const header: Header = { converter: converterId!, parser: parse.cacheKey, path, code: digest(code) }
  try {
    writeFileSync(temp, `${JSON.stringify(header)}\n${JSON.stringify(packed)}`, { flag: 'wx', mode: 0o600 })
    renameSync(temp, entry)
  } catch {
    rmSync(temp, { force: true })
  }
}
