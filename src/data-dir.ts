import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onProcessExit } from './cleanup.js'

/** Data folders not removed yet → their exit-hook task (removed if the runner exits without teardown). */
const liveDataDirs = new Map<string, () => void>()

/** Creates a session's private data folder: mode 0700, unpredictable name, under the OS temp dir. */
export async function createDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'server-coverage-'))
  liveDataDirs.set(dir, onProcessExit(() => rmSync(dir, { recursive: true, force: true })))
  return dir
}

/** Removes a data folder. */
export async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  liveDataDirs.get(dir)?.()
  liveDataDirs.delete(dir)
}
