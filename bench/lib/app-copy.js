// Copies of the example server for scopes that the real layout cannot give.
//
// `wideCopy`: server.js + src/app.js + express and its whole dependency tree copied into `libs/`
// (not `node_modules/`, which server-coverage, c8 and monocart all drop), so a "wide" scope of a
// few hundred real files can be measured with the same filters for every tool. The app imports
// `../libs/express/index.js`; express's own `require`s resolve through NODE_PATH=libs.
//
// `plainCopy`: server.js + src/app.js in a temp folder, resolving express from the example's own
// node_modules: the server every serving row runs, so rows differ only in how coverage is taken.
// `nycCopy`: the same, instrumented with `nyc instrument` (the app is ESM, which nyc's require hook
// does not see). An earlier version ran the other rows from examples/ and only nyc from a copy.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { BIN, EXAMPLE, ROOT } from './paths.js'

/** The node_modules folder that express resolves from for the example. */
function exampleNodeModules() {
  for (let dir = EXAMPLE; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', 'express', 'package.json'))) return join(dir, 'node_modules')
    if (dir === dirname(dir)) throw new Error('express is not installed for the example: run npm ci at the root')
  }
}

/** Finds package `name` as Node would from `fromDir` (nested node_modules first). */
function findPackage(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dir === dirname(dir)) return undefined
  }
}

/** express and every package it depends on, transitively: name → folder. */
function expressTree() {
  const tree = new Map()
  const visit = (name, dir) => {
    if (!dir || tree.has(name)) return
    tree.set(name, dir)
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, findPackage(dep, dir))
  }
  visit('express', join(exampleNodeModules(), 'express'))
  return tree
}

/** Writes the example app into `dir` (server.js, src/app.js, package.json), optionally rewriting the express import. */
function writeApp(dir, expressSpecifier) {
  mkdirSync(join(dir, 'src'), { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-app', private: true, type: 'module' }))
  writeFileSync(join(dir, 'server.js'), readFileSync(join(EXAMPLE, 'server.js')))
  const app = readFileSync(join(EXAMPLE, 'src', 'app.js'), 'utf8')
  writeFileSync(join(dir, 'src', 'app.js'), expressSpecifier ? app.replace("from 'express'", `from '${expressSpecifier}'`) : app)
}

/** Makes the wide copy; returns { dir, env, packages }. */
export function wideCopy() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wide-'))
  writeApp(dir, '../libs/express/index.js')
  const tree = expressTree()
  for (const [name, from] of tree) cpSync(from, join(dir, 'libs', name), { recursive: true, dereference: true })
  return { dir, env: { NODE_PATH: join(dir, 'libs') }, packages: tree.size }
}

/** Makes the plain copy; returns its folder. */
export function plainCopy(prefix = 'bench-plain-') {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  writeApp(dir)
  symlinkSync(exampleNodeModules(), join(dir, 'node_modules'))
  return dir
}

/** Makes the nyc-instrumented copy; returns its folder. */
export function nycCopy() {
  const dir = plainCopy('bench-nyc-')
  for (const file of ['server.js', join('src', 'app.js')]) {
    const instrumented = execFileSync(process.execPath, [BIN.nyc, 'instrument', join(dir, file)], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 })
    writeFileSync(join(dir, file), instrumented)
  }
  return dir
}

export { ROOT }
