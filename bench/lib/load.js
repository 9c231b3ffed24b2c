// Bounded HTTP load against a loopback server with autocannon, and the server's CPU over it.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { BENCH } from './paths.js'
import { LOAD_CPU, pinned } from './pin.js'
import { cpuDelta, cpuSeconds, groupPids } from './procs.js'

/** Runs autocannon for `seconds` with `connections` (loopback only). */
export function load(url, { seconds, connections = 16, path = '/users/1' }) {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`refusing to load a non-loopback url: ${url}`)
  return new Promise((resolve, reject) => {
    autocannon({ url: url + path, connections, duration: seconds, pipelining: 1 }, (error, result) => (error ? reject(error) : resolve(result)))
  })
}

/** The same load from another process (on its own core when pinned): the measuring process never competes with the server. */
function loadFromChild(url, { seconds, connections, path = '/users/1' }) {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`refusing to load a non-loopback url: ${url}`)
  const args = [process.execPath, join(BENCH, 'children', 'load.js'), url + path, String(seconds), String(connections)]
  const [file, ...rest] = pinned() ? ['taskset', '-c', String(LOAD_CPU), ...args] : args
  return new Promise((resolve, reject) => {
    execFile(file, rest, { env: { ...process.env, NODE_OPTIONS: '' } }, (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout.trim().split('\n').at(-1)))))
  })
}

/**
 * A warm-up run, then a measured run, both from a child process: requests/s and user+sys CPU of
 * the server's process group (from /proc/<pid>/stat) per request.
 */
export async function measureServing(server, { seconds, warmupSeconds = 1, connections = 32 }) {
  await loadFromChild(server.url, { seconds: warmupSeconds, connections })
  const pids = groupPids(server.pgid)
  const before = cpuSeconds(pids)
  const result = await loadFromChild(server.url, { seconds, connections })
  const cpu = cpuDelta(before, cpuSeconds(pids))
  return {
    rps: result.requests / seconds,
    cpuPerRequestUs: (cpu / Math.max(1, result.requests)) * 1e6,
    latencyP50: result.p50,
    errors: result.errors,
    processes: pids.length,
  }
}
