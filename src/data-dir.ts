import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Data folders not removed yet: removed if the runner exits without teardown (Jest 29 --bail). */
const liveDataDirs = new Set<string>()
let exitCleanupInstalled = false

/** Creates a session's private data folder: mode 0700, unpredictable name, under the OS temp dir. */
export async function createDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'server-coverage-'))
  if (!exitCleanupInstalled) {
    exitCleanupInstalled = true
    process.on('exit', () => {
      for (const leftover of liveDataDirs) rmSync(leftover, { recursive: true, force: true })
    })
  }
  liveDataDirs.add(dir)
  return dir
}

/** Removes a data folder. */
export async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  liveDataDirs.delete(dir)
}
