import type { AgentProcess } from '../../launch/control-server.js'
import { describeProcess } from '../../diagnostics.js'

/**
 * Server processes that disconnected without saving on their way out (no `exited` marker): killed
 * by a signal (the OOM killer, `kill -9`) or a native crash. What they ran since their last save
 * is lost; every save before is kept. `lastSaveAt(pid)` is the newest save read for the process
 * (a flush or a periodic save); `reported` keeps each process to one message.
 */
export function lostProcessMessages(server: string, agents: readonly AgentProcess[], exited: ReadonlySet<number>, lastSaveAt: (pid: number) => number, reported: Set<number>): string[] {
  const messages: string[] = []
  for (const agent of agents) {
    if (agent.connected || agent.threadId !== 0 || exited.has(agent.pid) || reported.has(agent.pid)) continue
    reported.add(agent.pid)
    const saved = Math.max(agent.lastFlushAt, lastSaveAt(agent.pid))
    const since = saved ? `since its last save ${Math.max(0, Math.round(agent.disconnectedAt - saved))} ms before it died` : 'since it started (it never saved)'
    messages.push(
      `process ${describeProcess(agent)} of "${server}" exited without saving its coverage (killed by a signal?): ` +
        `what it ran ${since} is lost. Everything it saved before that is kept.`,
    )
  }
  return messages
}
