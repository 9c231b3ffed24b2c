import type { AgentProcess } from '../../launch/control-server.js'
import type { ResolvedServerOptions } from '../../options.js'
import { readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cacheRoot, prepareCacheDir } from '../../cache-dir.js'
import { ACORN } from '../../coverage/parse.js'
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
 * The agents' cache of instrumented code (src/agent/instrument-cache.cts): the project's cache
 * folder (src/cache-dir.ts) for the server's `cwd`, and which instrumenter makes its entries (the
 * build's digest of instrument.cjs and the acorn it loads), worked out here once rather than in
 * every server process at start-up. Undefined: nothing is cached.
 */
export function instrumentCache(cwd: string): { dir: string; id: string } | undefined {
  const dir = cacheRoot(cwd)
  if (dir === undefined || !prepareCacheDir(dir)) return undefined
  let digest: string
  try {
    digest = readFileSync(INSTRUMENTER_ID, 'utf8').trim()
  } catch {
    return undefined
  }
  return digest ? { dir, id: `${digest}-${ACORN}` } : undefined
}

/** Written by the build next to the agent (scripts/instrumenter-id.mjs). */
const INSTRUMENTER_ID = join(dirname(dirname(dirname(fileURLToPath(import.meta.url)))), 'agent', 'instrument-id.txt')
