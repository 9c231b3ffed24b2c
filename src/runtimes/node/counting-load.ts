import type { AgentProcess } from '../../launch/control-server.js'
import type { ResolvedServerOptions } from '../../options.js'
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ServerCoverageError } from '../../errors.js'

// What counting on load (`counting: 'load'`) cannot count honestly, said up front. The agent
// instruments the code Node loads from a file and counts at that file's offsets: code transformed
// before it reaches the agent (tsx, ts-node, babel-register: loaders and require hooks) is not the
// file, and worker threads do not run our hooks.

/** Node flags that load code before the app: a loader or require hook may transform what runs. */
const HOOK_FLAG = /(?:^|\s)(--import|--loader|--experimental-loader|--require|-r)(?:[\s=]|$)/
/** Programs and entry points that run TypeScript (or other transformed code). */
const TRANSFORMING_PROGRAM = /^(?:.*\/)?(?:tsx|ts-node|ts-node-dev|ts-node-esm|babel-node|vite-node|esno|esbuild-register)$/
const TS_FILE = /\.[mc]?tsx?$/

/** Why counting on load cannot count this server, or undefined when it can. */
function transformedCode(options: ResolvedServerOptions, nodeOptions: string): string | undefined {
  const flag = HOOK_FLAG.exec(nodeOptions)
  if (flag) return `NODE_OPTIONS has \`${flag[1]}\` (a loader or require hook may transform the code that runs)`
  if (options.app !== undefined && TS_FILE.test(options.app)) return `the \`app\` module ${options.app} is TypeScript`
  const words = options.command?.trim().split(/\s+/).filter((word) => !/^\w+=/.test(word)) ?? []
  // `npx tsx …`, `pnpm exec ts-node …`: the program may come after a package runner.
  const program = words.slice(0, 3).find((word) => TRANSFORMING_PROGRAM.test(word))
  if (program) return `the command runs ${program}, which transforms the code it runs`
  const hook = words.map((word) => HOOK_FLAG.exec(` ${word}`)?.[1]).find(Boolean)
  if (hook) return `the command has \`${hook}\` (a loader or require hook may transform the code that runs)`
  const typescript = words.find((word) => TS_FILE.test(word))
  if (typescript) return `the command runs ${typescript}, a TypeScript file`
  return undefined
}

/** Throws `UNSUPPORTED` when the server's code may be transformed before it loads (`nodeOptions`: the server's own NODE_OPTIONS). */
export function assertCountableOnLoad(options: ResolvedServerOptions, nodeOptions: string | undefined): void {
  const why = transformedCode(options, nodeOptions ?? '')
  if (why === undefined) return
  throw new ServerCoverageError(
    'UNSUPPORTED',
    `the \`counting\` option 'load' counts plain JavaScript as it is on disk, but ${why}: its counts would not match the file. Use \`counting: 'v8'\` (the default) for "${options.name}".`,
  )
}

/** Once per server: worker threads registered, and counting on load does not count them. */
export function uncountedThreadsMessage(server: string, agents: readonly AgentProcess[]): string | undefined {
  const threads = agents.filter((agent) => agent.threadId !== 0).length
  if (threads === 0) return undefined
  return `${threads} worker thread(s) of "${server}" ran, and counting 'load' does not count code in worker threads (their code is missing from the report). Use \`counting: 'v8'\` to count them.`
}

/**
 * Files the agents left uncounted because the code Node ran was not the file on disk (a hook
 * transformed it), each said once: the agents list them in `uncounted-<pid>.txt` in the data folder.
 */
export async function uncountedFileMessages(server: string, dir: string, reported: Set<string>): Promise<string[]> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter((name) => /^uncounted-\d+\.txt$/.test(name))
  } catch {
    return []
  }
  const messages: string[] = []
  for (const name of names) {
    const files = (await readFile(join(dir, name), 'utf8').catch(() => '')).split('\n').filter(Boolean)
    for (const file of files) {
      if (reported.has(file)) continue
      reported.add(file)
      messages.push(`counting 'load' could not count ${file} of "${server}": the code Node ran is not the file on disk (a loader or require hook transformed it), so it is not in the report. Use \`counting: 'v8'\` for this server.`)
    }
  }
  return messages
}

/**
 * The folder of the agents' cache of instrumented code (src/agent/instrument-cache.cts), where nyc
 * keeps its own: `node_modules/.cache/server-coverage` in the nearest folder up from the server's
 * `cwd` that has a `node_modules` (the root of a workspace, as Node resolves packages), private
 * (0700: it holds the server's code). Undefined, so nothing is cached, when there is no
 * `node_modules` (we do not create one in a user's project) or the folder cannot be made: the
 * cache only saves time.
 */
export async function instrumentCacheDir(cwd: string): Promise<string | undefined> {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const modules = join(dir, 'node_modules')
    const isFolder = await stat(modules).then((found) => found.isDirectory(), () => false)
    if (isFolder) return makeCacheDir(modules)
    if (dirname(dir) === dir) return undefined
  }
}

async function makeCacheDir(modules: string): Promise<string | undefined> {
  const dir = join(modules, '.cache', 'server-coverage')
  try {
    // `.cache` is shared with other tools: only our own folder is private.
    await mkdir(join(modules, '.cache'), { recursive: true })
    await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error
    })
    await pruneCache(dir)
    return dir
  } catch {
    return undefined
  }
}

/** Entries not written for this long are removed (a hit only reads: an entry in use is rewritten after an edit or an upgrade). */
export const CACHE_ENTRY_MAX_AGE_MS = 30 * 24 * 3600_000
/** A temp file this old was left by a process killed while writing. */
const TEMP_MAX_AGE_MS = 3600_000

/**
 * Keeps the cache bounded: entries are keyed by file URL, so files that moved or temp folders
 * that are gone (test fixtures, CI checkouts at new paths) would otherwise stay forever. Once per
 * session, in the collector; an entry removed while in use is only instrumented again.
 */
async function pruneCache(dir: string): Promise<void> {
  const now = Date.now()
  for (const name of await readdir(dir)) {
    const maxAge = name.endsWith('.tmp') ? TEMP_MAX_AGE_MS : name.endsWith('.cache') ? CACHE_ENTRY_MAX_AGE_MS : undefined
    if (maxAge === undefined) continue
    const file = join(dir, name)
    const modified = await stat(file).then((found) => found.mtimeMs, () => now)
    if (now - modified > maxAge) await rm(file, { force: true }).catch(() => undefined)
  }
}
