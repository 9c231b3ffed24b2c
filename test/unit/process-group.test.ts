import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { listGroup, signalGroup, waitForGroupExit } from '../../src/launch/process-group.js'

// Real process groups (detached shells). waitForGroupExit scans /proc once and then watches only
// the members it found: these check that what it did not see at first is still waited for.

const groups: number[] = []
let dir: string | undefined

afterEach(() => {
  for (const pgid of groups.splice(0)) signalGroup(pgid, 'SIGKILL')
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

/** A detached process (`command args…`, its own group); resolves once `ready` exists. */
async function group(command: string, args: string[], ready: string): Promise<number> {
  const child = spawn(command, args, { detached: true, stdio: 'ignore' })
  groups.push(child.pid!)
  while (!existsSync(ready)) await new Promise((resolve) => setTimeout(resolve, 5))
  return child.pid!
}

test('a process the group forks while it stops is waited for, though it did not exist when the wait began', async () => {
  dir = mkdtempSync(join(tmpdir(), 'sc-pgroup-'))
  const late = join(dir, 'late-started')
  // On SIGTERM the leader (alone in its group until then) starts a late member that outlives it by ~300 ms.
  const leader = `process.on('SIGTERM', () => { require('node:child_process').spawn('sh', ['-c', 'touch ${late}; sleep 0.3'], { stdio: 'ignore' }); process.exit(0) }); require('node:fs').writeFileSync('${dir}/ready', ''); setInterval(() => {}, 1000)`
  const pgid = await group(process.execPath, ['-e', leader], join(dir, 'ready'))
  expect(listGroup(pgid).map((member) => member.pid)).toEqual([pgid])
  signalGroup(pgid, 'SIGTERM')
  const left = await waitForGroupExit(pgid, Date.now() + 10_000)
  expect(left).toEqual([])
  expect(existsSync(late)).toBe(true)
  expect(listGroup(pgid)).toEqual([])
})

test('at the deadline it returns every member still alive', async () => {
  dir = mkdtempSync(join(tmpdir(), 'sc-pgroup-'))
  // The ready file is written by the shell itself (no short-lived `touch` still in the group when it is listed).
  const pgid = await group('sh', ['-c', `trap '' TERM; sleep 30 & : > ${dir}/ready; wait`], join(dir, 'ready'))
  const members = listGroup(pgid)
  expect(members.length).toBe(2)
  signalGroup(pgid, 'SIGTERM')
  const left = await waitForGroupExit(pgid, Date.now() + 200)
  expect(left.map((member) => member.pid).sort()).toEqual(members.map((member) => member.pid).sort())
})
