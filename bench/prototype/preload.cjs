// PROTOTYPE: preloaded (NODE_OPTIONS=--require) into every process of a server instead of
// NODE_V8_COVERAGE. Registers the instrumenting ESM hook (module.register) for the files
// SC_PROTO_INCLUDE names (comma-separated globs relative to the cwd), keeps each file's counters,
// and writes them at exit to SC_PROTO_DIR as counts-<pid>-<threadId>.json (the real thing would
// answer the agent's flush over the control socket). CommonJS files are not instrumented yet
// (Module.prototype._compile would be the place on Node 20; module.registerHooks on 22.15+).
const fs = require('node:fs')
const Module = require('node:module')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const workerThreads = require('node:worker_threads')

const dir = process.env.SC_PROTO_DIR
const include = (process.env.SC_PROTO_INCLUDE ?? '**').split(',')
const files = new Map()

globalThis.__scCounters = (url, count, ranges) => {
  let file = files.get(url)
  if (!file) files.set(url, (file = { counts: new Uint32Array(count), ranges }))
  return file.counts
}

function dump() {
  const data = {}
  for (const [url, { counts, ranges }] of files) data[url] = { counts: [...counts], ranges }
  fs.writeFileSync(path.join(dir, `counts-${process.pid}-${workerThreads.threadId}.json`), JSON.stringify(data))
}

// Main threads only: preloads also run in the loader-hooks thread, where registering again would
// instrument every module twice (worker threads of the app are not instrumented by the prototype).
if (dir && workerThreads.isMainThread) {
  const hook = pathToFileURL(path.join(__dirname, 'hook.mjs')).href
  Module.register(hook, { data: { include, cwd: process.cwd() } })
  process.on('exit', dump)
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.on(signal, function scProtoSignal() {
      if (process.listenerCount(signal) > 1) return
      process.exit(143)
    })
  }
}
