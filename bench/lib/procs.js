// Process-group accounting from /proc: which processes belong to a server, and their CPU time.
import { readdirSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { sleep } from './stats.js'

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces). */
function statFields(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** Pids whose process group is `pgid` (a server spawned detached is its own group). */
export function groupPids(pgid) {
  const pids = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const fields = statFields(name)
    // fields[0] is the state, [1] ppid, [2] pgrp; a zombie has exited already.
    if (fields && Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(name))
  }
  return pids
}

/** Direct children of `ppid` whose command line contains `needle`. */
export function childPids(ppid, needle) {
  const pids = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const fields = statFields(name)
    if (!fields || Number(fields[1]) !== ppid) continue
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) pids.push(Number(name))
    } catch {
      // gone
    }
  }
  return pids
}

/** user+sys CPU seconds of each pid, by pid (a pid that is gone is left out). */
export function cpuSeconds(pids) {
  const byPid = new Map()
  for (const pid of pids) {
    const fields = statFields(pid)
    // utime and stime are fields 14 and 15 of stat, i.e. [11] and [12] after the name.
    if (fields) byPid.set(pid, (Number(fields[11]) + Number(fields[12])) / CLK_TCK)
  }
  return byPid
}

/** Nanoseconds each pid has run on a CPU (/proc/<pid>/schedstat: exact, where stat counts 10 ms ticks), by pid. */
export function runNs(pids) {
  const byPid = new Map()
  for (const pid of pids) {
    try {
      byPid.set(pid, Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]))
    } catch {
      // gone
    }
  }
  return byPid
}

/** CPU seconds spent by `pids` between two `cpuSeconds` snapshots (pids in both). */
export function cpuDelta(before, after) {
  let total = 0
  for (const [pid, seconds] of after) if (before.has(pid)) total += seconds - before.get(pid)
  return total
}

/** Signals a whole process group; false when it is gone. */
export function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/** Waits until no live process is left in the group; SIGKILLs it after `graceMs`. */
export async function waitGroupGone(pgid, graceMs = 5000) {
  const deadline = Date.now() + graceMs
  while (groupPids(pgid).length > 0) {
    if (Date.now() > deadline) {
      signalGroup(pgid, 'SIGKILL')
      await sleep(100)
      return false
    }
    await sleep(20)
  }
  return true
}
