import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** One Coverage.py data file of a server process. */
export interface DataFile {
  path: string
  pid: number
  /** The process it came from (pid plus start time: pids may be reused during a long run). */
  process: string
  /** When it was written (ms since epoch). */
  savedAt: number
}

/**
 * Which process wrote a data file, from its name:
 * - ready files (python/_server_coverage_agent.py): `.coverage.<host>.<pid>.<start ns>.<sequence>`;
 * - files still being collected into (Coverage.py's own name): `.coverage.<host>.<pid>.<random>`.
 * The host may contain dots, so the name is read from the right.
 */
export function parseDataFileName(name: string, ready: boolean): { pid: number; process: string } | undefined {
  if (!name.startsWith('.coverage.')) return undefined
  const parts = name.split('.')
  const pid = Number(parts.at(ready ? -3 : -2))
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  return { pid, process: ready ? `${pid}.${parts.at(-2)}` : `${pid}` }
}

/**
 * How many processes wrote `files`. A file a process left in its collecting folder (killed while
 * it saved, see `pending`) names only its pid: it counts as the process of a ready file with that
 * pid in the same read, if there is one.
 */
export function countProcesses(files: readonly DataFile[]): number {
  const processes = new Set(files.filter((file) => file.process !== `${file.pid}`).map((file) => file.process))
  const pids = new Set([...processes].map((process) => Number(process.split('.')[0])))
  for (const file of files) if (!pids.has(file.pid)) processes.add(file.process)
  return processes.size
}

/**
 * The data files of one server, each handed out once: every save of a process moves a finished
 * file into the ready folder (atomically), so the files not handed out yet are exactly what ran
 * since the previous read. Once the server stopped, the files processes were still collecting
 * into are handed out too (a process killed while saving leaves one; it may be incomplete).
 */
export class DataFiles {
  readonly #readyDir: string
  readonly #dataDir: string
  readonly #handedOut = new Set<string>()
  /** Newest save read per pid, for "what was lost" messages. */
  readonly lastSaveAt = new Map<number, number>()

  constructor(readyDir: string, dataDir: string) {
    this.#readyDir = readyDir
    this.#dataDir = dataDir
  }

  /** Files not handed out yet, oldest first. */
  async pending(final: boolean): Promise<DataFile[]> {
    const files = await this.#list(this.#readyDir, true)
    if (final) files.push(...(await this.#list(this.#dataDir, false)))
    return files.sort((a, b) => a.savedAt - b.savedAt)
  }

  async #list(dir: string, ready: boolean): Promise<DataFile[]> {
    const files: DataFile[] = []
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const path = join(dir, name)
      const origin = parseDataFileName(name, ready)
      if (!origin || this.#handedOut.has(path)) continue
      const info = await stat(path).catch(() => undefined)
      if (info?.isFile()) files.push({ path, ...origin, savedAt: info.mtimeMs })
    }
    return files
  }

  /**
   * Marks files as read and removes them (a copy goes to `keepDir` when given: tests compare our
   * numbers with `coverage report` on exactly the data we read).
   */
  async done(files: readonly DataFile[], keepDir: string | undefined): Promise<void> {
    if (keepDir) await mkdir(keepDir, { recursive: true })
    for (const file of files) {
      this.#handedOut.add(file.path)
      this.lastSaveAt.set(file.pid, Math.max(this.lastSaveAt.get(file.pid) ?? 0, file.savedAt))
      if (keepDir) await copyFile(file.path, join(keepDir, file.path.split('/').pop() ?? '')).catch(() => {})
      await rm(file.path, { force: true })
    }
  }
}
