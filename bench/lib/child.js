// Runs a collector as a child process and measures it from outside: wall time, peak RSS.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BENCH } from './paths.js'

const RSS_PRELOAD = join(BENCH, 'children', 'report-rss.cjs')

/** Spawns `node args…`, returns { wallMs, maxRssKb, json (last JSON line of stdout), stderr }. */
export function runCollector(args, { cwd, node = process.execPath, timeoutMs = 300_000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now()
    const child = spawn(node, args, {
      cwd,
      env: { ...process.env, SERVER_COVERAGE_CACHE_DIR: '', ...env, NODE_OPTIONS: `--require ${RSS_PRELOAD}`, NODE_V8_COVERAGE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      const wallMs = performance.now() - startedAt
      const maxRssKb = Number(/BENCH_MAX_RSS_KB=(\d+)/.exec(stderr)?.[1])
      const jsonLine = stdout.trim().split('\n').reverse().find((line) => line.startsWith('{'))
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited with ${code}\n${stderr.slice(-2000)}`))
      resolve({ wallMs, maxRssKb, json: jsonLine ? JSON.parse(jsonLine) : undefined, stderr })
    })
  })
}

/** Files in an istanbul coverage-final.json (0 when missing). */
export function countReportFiles(outDir) {
  const file = join(outDir, 'coverage-final.json')
  return existsSync(file) ? Object.keys(JSON.parse(readFileSync(file, 'utf8'))).length : 0
}
