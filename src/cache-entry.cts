/**
 * One cache entry on disk, for both caches (the agents' instrumented code, src/agent/instrument-cache.cts,
 * and the converter's plans, src/coverage/plan-store.ts): its file name and its atomic write.
 * CommonJS, so the agent can `require` it on Node 20; built-ins only, no `node:crypto` (every server
 * process may load it at start-up). Where the entries live is src/cache-dir.ts.
 */
import fs = require('node:fs')

/** 32-bit FNV-1a over UTF-16 code units, in hex: entry names and checksums, where the entry itself says what it is for. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return (hash >>> 0).toString(16).padStart(8, '0')
}

/**
 * Writes `text` to `entry` through a temp file of its own renamed into place: a reader sees a whole
 * entry or none, and processes that write one entry at once each rename a whole one (the last
 * wins; they are equal). False when it could not (read-only, missing, full): a cache only saves time.
 */
function writeEntry(entry: string, text: string): boolean {
  const temp = `${entry}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`
  try {
    fs.writeFileSync(temp, text, { flag: 'wx', mode: 0o600 })
    fs.renameSync(temp, entry)
    return true
  } catch {
    fs.rmSync(temp, { force: true })
    return false
  }
}

export = { fnv1a, writeEntry }
