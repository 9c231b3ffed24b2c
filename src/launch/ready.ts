import { request } from 'node:http'
import { connect } from 'node:net'

/**
 * How often a readiness probe is retried. A refused loopback connection costs microseconds; every
 * millisecond between the server listening and the next probe is start-up the user waits for
 * (at 50 ms it was a sixth of a 300 ms Node 24 start: bench/RESULTS.md).
 */
const PROBE_INTERVAL_MS = 10

/** Resolves true when `url` answers with a 2xx/3xx status. Never rejects. */
export function probeHttp(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: 2000, agent: false }, (res) => {
      res.resume()
      const status = res.statusCode ?? 0
      resolve(status >= 200 && status < 400)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
    req.end()
  })
}

/** Resolves true when something accepts a TCP connection on `127.0.0.1:port`. Never rejects. */
export function probePort(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host })
    socket.setTimeout(1000, () => socket.destroy())
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('close', () => resolve(false))
  })
}

/**
 * Probes until ready, `signal` aborts (the server exited) or `deadline` passes. Returns whether the
 * server became ready; the caller turns "not ready" into the right error.
 */
export async function waitForReady(probe: () => Promise<boolean>, deadline: number, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted && Date.now() < deadline) {
    if (await probe()) return true
    if (signal.aborted) break
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(PROBE_INTERVAL_MS, Math.max(0, deadline - Date.now())))
      signal.addEventListener('abort', done, { once: true })
      function done(): void {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
    })
  }
  return false
}
