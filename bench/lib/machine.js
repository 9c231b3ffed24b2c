// What machine and which Node versions a run used, for RESULTS.md.
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import os from 'node:os'

/** nproc, CPU model, memory, OS, and each Node binary's version. */
export function describeMachine(nodeBins) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown'
  const memKb = Number(/^MemTotal:\s*(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0)
  let nproc = os.availableParallelism()
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim())
  } catch {
    // keep availableParallelism
  }
  const versions = Object.fromEntries(
    Object.entries(nodeBins).map(([name, bin]) => [name, execFileSync(bin, ['-v'], { encoding: 'utf8' }).trim()]),
  )
  return { nproc, cpu: model, memory: `${(memKb / 1024 / 1024).toFixed(1)} GiB`, os: `${os.type()} ${os.release()} ${os.arch()}`, versions, date: new Date().toISOString() }
}
