import type { ChildProcess } from 'node:child_process'
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'

/** Why network namespaces cannot be made here (root and iproute2 are needed), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root'
  const probe = `scprobe${randomBytes(3).toString('hex')}`
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' })
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' })
    return undefined
  } catch (error) {
    return `\`ip netns add\` failed: ${(error as Error).message.split('\n')[0]}`
  }
}

/**
 * Another "host": a network namespace joined to this one by a veth pair, `10.213.<n>.1` on our
 * side and `10.213.<n>.2` inside, like a container on its bridge. Processes started in it see
 * the same files but their own network.
 */
export interface NetHost {
  name: string
  /** Our address as the namespace sees it (where it reaches the collector). */
  gateway: string
  /** The namespace's address (where its servers are reached). */
  address: string
  /** Starts a process inside the namespace. */
  spawn(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess
  /** Kills every process inside and deletes the namespace (and its veth). */
  remove(): void
}

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })

/** Makes namespace number `n` (1–250). */
export function makeHost(n: number): NetHost {
  const id = randomBytes(2).toString('hex')
  const name = `sc-${id}-${n}`
  const outside = `sch${id}${n}`
  const inside = `scn${id}${n}`
  const gateway = `10.213.${n}.1`
  const address = `10.213.${n}.2`
  ip('netns', 'add', name)
  ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside)
  ip('link', 'set', inside, 'netns', name)
  ip('addr', 'add', `${gateway}/24`, 'dev', outside)
  ip('link', 'set', outside, 'up')
  ip('netns', 'exec', name, 'ip', 'addr', 'add', `${address}/24`, 'dev', inside)
  ip('netns', 'exec', name, 'ip', 'link', 'set', inside, 'up')
  ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up')
  return {
    name,
    gateway,
    address,
    spawn: (command, args, env) => spawn('ip', ['netns', 'exec', name, command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
    remove() {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean)
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL')
          } catch {
            // already gone
          }
        }
      } catch {
        // namespace already gone
      }
      try {
        ip('netns', 'del', name)
      } catch {
        // already gone
      }
      try {
        ip('link', 'del', outside)
      } catch {
        // removed with the namespace
      }
    },
  }
}
