import { execFileSync } from 'node:child_process'

// Playwright evaluates the config in the runner AND again in every worker process, and `baseURL`
// is read from the config each time: a free port picked while evaluating it must come out the
// same everywhere. The first evaluation (the runner's) picks it and leaves it in its environment,
// which every worker inherits; later evaluations read it back.

const ENV_KEY = 'SERVER_COVERAGE_PLAYWRIGHT_PORTS'

const PICK_PORT = "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"

/**
 * A free loopback port, synchronously (a config is evaluated synchronously): a short-lived child
 * asks the OS for one, the way get-port does.
 */
function pickFreePort(): number {
  const port = Number(execFileSync(process.execPath, ['-e', PICK_PORT], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }))
  if (!Number.isInteger(port) || port <= 0) throw new Error(`could not pick a free port (got "${port}")`)
  return port
}

function readPorts(): Record<string, number> {
  try {
    return JSON.parse(process.env[ENV_KEY] ?? '{}') as Record<string, number>
  } catch {
    return {}
  }
}

/** The port of `key` in this run: picked once, in the process that evaluates the config first. */
export function stablePort(key: string): number {
  const ports = readPorts()
  const known = ports[key]
  if (known !== undefined) return known
  const port = pickFreePort()
  process.env[ENV_KEY] = JSON.stringify({ ...ports, [key]: port })
  return port
}
