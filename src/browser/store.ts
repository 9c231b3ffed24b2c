import type { BrowserCounts, BrowserFileCounts } from './collect.js'
import type { ScriptCov } from '../coverage/v8-types.js'
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { mergeInto } from '../coverage/merge-into.js'
import { addRuns, runsToScriptCov } from './runs.js'

// Workers and the runner share one private folder: each worker writes a file per test (renamed
// into place, so the runner never reads half a file), the runner adds them all up at the end.

const FORMAT = 'server-coverage/browser-v1'

interface StoredCounts extends BrowserCounts {
  format: typeof FORMAT
}

/** Writes a worker's counts as one new file in `dir` (nothing when there is nothing to say). */
export function writeBrowserCounts(dir: string, name: string, counts: BrowserCounts): void {
  if (Object.keys(counts.files).length === 0 && Object.keys(counts.istanbul).length === 0 && counts.notes.length === 0) return
  const file = join(dir, `${name.replace(/[^\w.-]/g, '_')}.json`)
  const stored: StoredCounts = { format: FORMAT, ...counts }
  writeFileSync(`${file}.tmp`, JSON.stringify(stored))
  renameSync(`${file}.tmp`, file)
}

/** Every worker's counts in `dir`, added up per file; notes deduplicated. */
export function readBrowserCounts(dir: string): BrowserCounts {
  const total: BrowserCounts = { files: {}, istanbul: {}, notes: [] }
  const notes = new Set<string>()
  let names: string[]
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json')).sort()
  } catch {
    return total
  }
  for (const name of names) {
    let stored: StoredCounts
    try {
      stored = JSON.parse(readFileSync(join(dir, name), 'utf8')) as StoredCounts
    } catch {
      notes.add(`browser coverage file ${name} could not be read; left out`)
      continue
    }
    if (stored.format !== FORMAT) continue
    for (const note of stored.notes) notes.add(note)
    mergeInto(total.istanbul, stored.istanbul ?? {})
    for (const [path, counts] of Object.entries(stored.files)) {
      const existing = total.files[path]
      if (!existing) total.files[path] = counts
      else if (existing.sha1 === counts.sha1) existing.runs = addRuns(existing.runs, counts.runs)
      else notes.add(`${path} changed during the run; only part of its browser coverage is reported`)
    }
  }
  total.notes = [...notes]
  return total
}

/**
 * The browser's counts as V8 script coverage of the files themselves, for the converter the
 * server's files go through. Files whose text changed since the tests ran are left out (named).
 */
export function browserScripts(files: Record<string, BrowserFileCounts>, readText: (path: string) => string | undefined): { scripts: ScriptCov[]; changed: string[] } {
  const scripts: ScriptCov[] = []
  const changed: string[] = []
  for (const [path, counts] of Object.entries(files)) {
    const text = readText(path)
    if (text === undefined || createHash('sha1').update(text).digest('hex') !== counts.sha1) {
      changed.push(path)
      continue
    }
    scripts.push(runsToScriptCov(pathToFileURL(path).href, counts.length, counts.runs))
  }
  return { scripts, changed }
}
