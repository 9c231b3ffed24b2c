// Core pinning for the serving measurements. On 2 cores, a 4-worker server and its load generator
// sharing both cores gave a bistable cost per request: the same bare server measured 136 to
// 293 µs of CPU per request back to back, depending on how requests batched per wake-up, and one
// run of 3 rounds showed nyc "faster than no coverage". With the server's whole process group on
// one core and the load generator alone on the other, the same server varies by about ±5 %.
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

export const SERVER_CPU = 1
export const LOAD_CPU = 0

let available
/** Whether pinning is used: at least 2 cores and `taskset` (util-linux). */
export function pinned() {
  if (available === undefined) {
    try {
      execFileSync('taskset', ['-c', String(LOAD_CPU), 'true'], { stdio: 'ignore' })
      available = availableParallelism() >= 2
    } catch {
      available = false
    }
  }
  return available
}

/** The argv prefix that runs a command on the server's core (empty when not pinning). */
export function serverPrefix() {
  return pinned() ? ['taskset', '-c', String(SERVER_CPU)] : []
}
