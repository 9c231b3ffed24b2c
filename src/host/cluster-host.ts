import type { HostConfig } from './protocol.js'
import cluster from 'node:cluster'
import process from 'node:process'
import { runPrimary } from './primary.js'
import { readHostConfig } from './protocol.js'
import { runWorker } from './worker.js'

/**
 * The app host: serves a user's HTTP app module from an N-worker `node:cluster`, the way uWSGI
 * hosts a WSGI callable. Its whole configuration comes from the launcher in one JSON environment
 * variable (`SERVER_COVERAGE_HOST`, see protocol.ts); `PORT` is also set, for the app's own use.
 *
 * Every process exits *naturally* on SIGTERM/SIGINT/SIGHUP: a process killed by a signal never
 * writes its NODE_V8_COVERAGE file, and the launcher signals the whole process group, so the
 * primary and each worker install handlers (the agent then defers to them).
 */

let config: HostConfig
try {
  config = readHostConfig(process.env)
} catch (error) {
  process.stderr.write(`server-coverage host: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
}
if (cluster.isPrimary) runPrimary(config)
else await runWorker(config)
