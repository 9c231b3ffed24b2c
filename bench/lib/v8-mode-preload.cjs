// Preloaded into every process of the server for the "what would another V8 mode cost" configs:
// starts precise coverage through the inspector instead of NODE_V8_COVERAGE.
//   BENCH_V8_MODE=function  → Profiler.startPreciseCoverage({ callCount: false, detailed: false })
//   BENCH_V8_MODE=binary    → { callCount: false, detailed: true }  (block coverage, 0/1 instead of counts)
//   BENCH_V8_MODE=count     → { callCount: true, detailed: true }   (what NODE_V8_COVERAGE uses)
// Coverage is taken (and dropped) every second, as a session's checkpoints would: in the binary
// modes V8 does not optimize or inline a function until its coverage has been reported once
// (debug-coverage.cc, `has_reported_binary_coverage`), so a mode that is never taken measures
// unoptimized code. Nothing is written: these configs only measure the serving cost of each mode.
const inspector = require('node:inspector')

const mode = process.env.BENCH_V8_MODE
if (mode) {
  const session = new inspector.Session()
  session.connect()
  session.post('Profiler.enable')
  session.post('Profiler.startPreciseCoverage', { callCount: mode === 'count', detailed: mode !== 'function' })
  setInterval(() => session.post('Profiler.takePreciseCoverage', () => {}), 1000).unref()
  // Keep the session (and so the coverage) alive for the life of the process.
  globalThis.__benchCoverageSession = session
}
