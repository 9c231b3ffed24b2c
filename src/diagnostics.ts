import type { AgentProcess, FlushResult } from './launch/control-server.js'
import type { GracefulShutdown } from './options.js'

// The messages a session prints about coverage that could not be had: what happened, whose data,
// and how much of it. Pure functions over what the stages observed.

/** `1234 (node server.js)`: a process as messages name it. */
export function describeProcess(agent: AgentProcess): string {
  return `${agent.pid} (${agent.argv.join(' ') || 'node'})`
}

/** Processes that failed or did not answer a flush round. */
export function flushMessages(server: string, result: FlushResult, timeoutMs: number): string[] {
  const messages = result.failed.map(({ process, error }) => `process ${describeProcess(process)} failed to write coverage: ${error}`)
  if (result.unanswered.length > 0) {
    messages.push(
      `${result.unanswered.length} process(es) of "${server}" did not answer the flush within ${timeoutMs} ms (the \`flushTimeout\` option) ` +
        `(busy or stuck): ${result.unanswered.map(describeProcess).join(', ')}; their coverage since their last flush is missing from this report.`,
    )
  }
  return messages
}

/** Processes SIGKILLed after the graceful timeout. */
export function forcedMessage(server: string, forced: readonly { pid: number; command: string }[], graceful: Required<GracefulShutdown>): string | undefined {
  if (forced.length === 0) return undefined
  return (
    `${forced.length} process(es) of "${server}" did not exit within ${graceful.timeout} ms of ${graceful.signal} ` +
    `(\`gracefulShutdown.timeout\`) and were killed with SIGKILL: ${forced.map((p) => `${p.pid} (${p.command})`).join(', ')}. ` +
    'Coverage they gathered after the last flush was lost.'
  )
}
