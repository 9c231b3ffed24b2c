import { readdirSync, readFileSync } from 'node:fs'

/** A live member of a process group. */
export interface GroupMember {
  pid: number
  command: string
}

/**
 * Lists the live (non-zombie) processes of group `pgid`. On Linux this reads `/proc`, so zombies
 * that nobody reaps (a container without an init) do not count as alive; elsewhere it can only
 * tell whether the group has any member, and returns the leader as a stand-in.
 */
export function listGroup(pgid: number): GroupMember[] {
  if (process.platform !== 'linux') {
    try {
      process.kill(-pgid, 0)
      return [{ pid: pgid, command: '?' }]
    } catch {
      return []
    }
  }
  const members: GroupMember[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue
    }
    // Format: pid (comm) state ppid pgrp …; comm may contain spaces and parentheses.
    const close = stat.lastIndexOf(')')
    const fields = stat.slice(close + 2).split(' ')
    if (fields[0] === 'Z' || Number(fields[2]) !== pgid) continue
    let command = stat.slice(stat.indexOf('(') + 1, close)
    try {
      command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') || command
    } catch {
      // keep comm
    }
    members.push({ pid: Number(entry), command })
  }
  return members
}

/** Sends `signal` to every process of group `pgid`; false if the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/** Resolves with the members still alive at `deadline`, or [] as soon as the group is empty. */
export async function waitForGroupExit(pgid: number, deadline: number, pollMs = 5): Promise<GroupMember[]> {
  for (;;) {
    const members = listGroup(pgid)
    if (members.length === 0 || Date.now() >= deadline) return members
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, deadline - Date.now()))))
  }
}
