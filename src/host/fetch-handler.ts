import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/**
 * Serves a fetch-style app (`{ fetch(request): Response }`: Hono, `export default { fetch }`) from a
 * Node `http` server: the incoming message becomes a WHATWG `Request`, the `Response` is written
 * back with its status, headers (every `Set-Cookie` kept apart) and streamed body. What
 * `@hono/node-server` does, without a dependency on it.
 */

/** An app with a WHATWG `fetch(request)` method. */
export interface FetchApp {
  fetch: (request: Request) => Response | Promise<Response>
}

function toRequest(req: IncomingMessage): Request {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`)
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item)
  }
  const method = req.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  // `duplex: 'half'` is required by undici for a streamed request body; TypeScript's RequestInit lacks it.
  const init: RequestInit & { duplex?: 'half' } = { method, headers }
  if (hasBody) {
    init.body = Readable.toWeb(req) as unknown as ReadableStream
    init.duplex = 'half'
  }
  return new Request(url, init)
}

async function writeResponse(response: Response, method: string | undefined, res: ServerResponse): Promise<void> {
  res.statusCode = response.status
  if (response.statusText) res.statusMessage = response.statusText
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value)
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  if (!response.body || method === 'HEAD') {
    res.end()
    return
  }
  await pipeline(Readable.fromWeb(response.body as unknown as NodeReadableStream), res)
}

/** A Node request handler that serves `app.fetch`. A failing `fetch` answers 500 (the error goes to stderr, as Node would print it). */
export function fetchRequestHandler(app: FetchApp): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const response = await app.fetch(toRequest(req))
      await writeResponse(response, req.method, res)
    })().catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      if (!res.headersSent) {
        res.statusCode = 500
        res.end()
      } else {
        res.destroy()
      }
    })
  }
}
