import { chmod, mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ServerCoverageError } from '../errors.js'

/** What `serve` writes to `.server-coverage/serve.json` (mode 0600) and prints. */
export interface ServeInfo {
  /** The attach address: the path of the serve's private Unix socket. */
  address: string
  /** Base URL of each server by name. */
  urls: Record<string, string>
  pid: number
  /** Where network agents connect (`--agents`), when the serve collects from servers it did not start. */
  agents?: string
}

/** The file a `serve` leaves in its working folder so `snapshot`, `stop` and runners can find it. */
export function serveInfoFile(root: string): string {
  return join(root, '.server-coverage', 'serve.json')
}

/** Writes the serve's info file, readable by the user only. */
export async function writeServeInfo(root: string, info: ServeInfo): Promise<string> {
  const file = serveInfoFile(root)
  await mkdir(join(root, '.server-coverage'), { recursive: true, mode: 0o700 })
  await writeFile(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 })
  await chmod(file, 0o600)
  return file
}

/** Removes the info file (and its folder when empty). */
export async function removeServeInfo(root: string): Promise<void> {
  await rm(serveInfoFile(root), { force: true })
  await rmdir(join(root, '.server-coverage')).catch(() => {}) // only when empty
}

/**
 * Finds the running `serve` to attach to: an explicit address, else `SERVER_COVERAGE_ATTACH`,
 * else `.server-coverage/serve.json` in `root`. Throws `ATTACH_FAILED` saying where it looked.
 */
export async function findServe(root: string, explicit?: string): Promise<{ address: string; from: string }> {
  if (explicit) return { address: explicit, from: 'the `attach` option' }
  const fromEnv = process.env.SERVER_COVERAGE_ATTACH
  if (fromEnv) return { address: fromEnv, from: 'SERVER_COVERAGE_ATTACH' }
  const file = serveInfoFile(root)
  try {
    const info = JSON.parse(await readFile(file, 'utf8')) as ServeInfo
    if (typeof info.address === 'string' && info.address) return { address: info.address, from: file }
  } catch {
    // fall through to the error
  }
  throw new ServerCoverageError(
    'ATTACH_FAILED',
    `no running \`server-coverage serve\` found: no address given (\`attach\` option / --attach), SERVER_COVERAGE_ATTACH is not set, and ${file} does not exist. ` +
      'Start one with `npx server-coverage serve --command "…"` (it prints the address), or give the address.',
  )
}
