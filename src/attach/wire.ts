import type { Socket } from 'node:net'

/** One message of the attach protocol: newline-delimited JSON, `t` its type, `id` pairing a reply with its request. */
export interface WireMessage {
  t: string
  id?: number
  [key: string]: unknown
}

/** Largest message a peer may send (a read of a large server is a few MB; anything past this is refused). */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024

/**
 * Reads newline-delimited JSON messages from `socket`. A line that is not JSON, or a message over
 * `MAX_MESSAGE_BYTES`, ends the connection: it is not a peer of ours.
 */
export function onMessages(socket: Socket, handle: (message: WireMessage) => void): void {
  let buffered = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    buffered += chunk
    if (buffered.length > MAX_MESSAGE_BYTES) {
      socket.destroy(new Error('message too large'))
      return
    }
    let newline = buffered.indexOf('\n')
    while (newline !== -1) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      newline = buffered.indexOf('\n')
      let message: WireMessage
      try {
        message = JSON.parse(line) as WireMessage
      } catch {
        socket.destroy(new Error('not a server-coverage peer'))
        return
      }
      if (message && typeof message === 'object' && typeof message.t === 'string') handle(message)
    }
  })
}

/** Sends one message. */
export function send(socket: Socket, message: WireMessage): void {
  socket.write(`${JSON.stringify(message)}\n`)
}
