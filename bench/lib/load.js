// Bounded HTTP load against a loopback server with autocannon, and the server's CPU over it.
import autocannon from 'autocannon'
import { cpuDelta, cpuSeconds, groupPids } from './procs.js'

/** Runs autocannon for `seconds` with `connections` (loopback only). */
export function load(url, { seconds, connections = 16, path = '/users/1' }) {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`refusing to load a non-loopback url: ${url}`)
  return new Promise((resolve, reject) => {
    autocannon({ url: url + path, connections, duration: seconds, pipelining: 1 }, (error, result) => (error ? reject(error) : resolve(result)))
  })
}

/**
 * A warm-up run, then a measured run: requests/s and user+sys CPU of the server's process group
 * (from /proc/<pid>/stat) per request.
 */
export async function measureServing(server, { seconds, warmupSeconds = 1, connections = 16 }) {
  await load(server.url, { seconds: warmupSeconds, connections })
  const pids = groupPids(server.pgid)
  const before = cpuSeconds(pids)
  const result = await load(server.url, { seconds, connections })
  const cpu = cpuDelta(before, cpuSeconds(pids))
  const requests = result.requests.total
  return {
    rps: requests / seconds,
    cpuPerRequestUs: (cpu / Math.max(1, requests)) * 1e6,
    latencyP50: result.latency.p50,
    errors: result.errors + result.non2xx,
    processes: pids.length,
  }
}
