/**
 * The agents' end of the control channel's framing: newline-delimited JSON. Shared by the local
 * agent (preload.cts) and the network agent (remote.cts); built-ins only, like them.
 */
import net = require('node:net')

/** What the collector sends an agent. */
interface CollectorMessage {
  t?: string
  id?: number
}

/** Calls `handle` for every JSON line the collector sends on `socket`; lines that are not JSON are skipped. */
function onLines(socket: net.Socket, handle: (message: CollectorMessage) => void): void {
  let buffered = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    buffered += chunk
    let newline = buffered.indexOf('\n')
    while (newline !== -1) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      newline = buffered.indexOf('\n')
      let message: CollectorMessage
      try {
        message = JSON.parse(line) as CollectorMessage
      } catch {
        continue
      }
      if (message !== null && typeof message === 'object') handle(message)
    }
  })
}

export = { onLines }
