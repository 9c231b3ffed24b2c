// PROTOTYPE: the ESM load hook (module.register): instruments included `file:` modules.
import { relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import picomatch from '../../node_modules/picomatch/index.js'
import { instrument } from './instrument.js'

let isIncluded = () => false
let cwd = process.cwd()

export function initialize(data) {
  cwd = data.cwd
  isIncluded = picomatch(data.include, { dot: true })
}

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context)
  if (!url.startsWith('file:') || url.includes('/node_modules/') || result.format !== 'module' || result.source == null) return result
  const path = fileURLToPath(url)
  const rel = relative(cwd, path)
  if (rel.startsWith('..') || !isIncluded(rel.split(sep).join('/'))) return result
  return { ...result, source: instrument(String(result.source), url).code }
}
