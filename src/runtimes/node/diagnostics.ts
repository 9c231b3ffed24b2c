import type { AgentProcess } from '../../launch/control-server.js'
import { statSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describeProcess } from '../../diagnostics.js'

// What the Node runtime says about V8 coverage it could not have: pure functions over what the
// reader observed.

/**
 * Processes that exited without writing a file after their last flush: killed by a signal (or a
 * native crash). `newestWrite(pid)` is the time of the newest coverage file read for the process;
 * `reported` keeps each process to one message. Worker threads end with their process and are skipped.
 */
export function lostProcessMessages(server: string, agents: readonly AgentProcess[], newestWrite: (pid: number) => number, reported: Set<number>): string[] {
  const messages: string[] = []
  for (const agent of agents) {
    if (agent.connected || agent.threadId !== 0 || reported.has(agent.pid)) continue
    if (newestWrite(agent.pid) > agent.lastFlushAt) continue
    reported.add(agent.pid)
    const since = agent.lastFlushAt
      ? `since its last checkpoint ${agent.disconnectedAt - agent.lastFlushAt} ms before it died`
      : 'since it started (it never reached a checkpoint)'
    messages.push(
      `process ${describeProcess(agent)} of "${server}" exited without writing coverage (killed by a signal?): ` +
        `its coverage ${since} is lost. Everything it flushed before that is kept.`,
    )
  }
  return messages
}

/** V8 offsets refer to the code that ran: files edited since `since` map onto the wrong lines. */
export function changedSourceMessages(urls: readonly string[], since: number, reported: Set<string>): string[] {
  const messages: string[] = []
  for (const url of urls) {
    const path = fileURLToPath(url)
    if (reported.has(path)) continue
    try {
      if (statSync(path).mtimeMs <= since) continue
    } catch {
      continue
    }
    reported.add(path)
    messages.push(`${path} changed after the server loaded it: its coverage may land on the wrong lines. Re-run to be sure.`)
  }
  return messages
}

/** Truncated coverage files on a disk with no space left: say so, and where to point TMPDIR. */
export async function fullDiskMessage(dir: string): Promise<string | undefined> {
  try {
    const { bavail, bsize } = await statfs(dir)
    const free = bavail * bsize
    if (free > 1024 * 1024) return undefined
    return `the disk holding ${dir} is full (${Math.round(free / 1024)} KB free): V8 could not write the server's coverage. Free some space, or set TMPDIR to a folder on a disk with room.`
  } catch {
    return undefined
  }
}
