import type { NodeCoverageFile, ScriptCov } from '../../coverage/v8-types.js'

const HEAD = '{"result":['
const ENTRY = '{"scriptId":"'
const TAIL = '],"timestamp":'
const URL_AT_ENTRY_START = /^\{"scriptId":"[^"]*","url":("(?:[^"\\]|\\.)*")/

/** Scripts no report can use: Node internals, `node_modules`, anything not a file. */
function obviouslyUnwanted(url: string): boolean {
  return !url.startsWith('file://') || url.includes('/node_modules/')
}

/**
 * Parses a coverage file as Node writes it (`{"result":[…],"timestamp":…,"source-map-cache":{…}}`),
 * running `JSON.parse` only on the scripts a report could use. A server process's file is ~60% Node
 * internals and ~26% `node_modules`, and parsing all of it dominated collection time (bench/).
 * Anything unexpected falls back to parsing the whole text; a truncated file throws, as
 * `JSON.parse` would.
 */
export function parseCoverageFile(text: string): NodeCoverageFile {
  const tailAt = text.lastIndexOf(TAIL)
  if (!text.startsWith(HEAD) || tailAt === -1) return JSON.parse(text) as NodeCoverageFile
  const tail = JSON.parse(`{${text.slice(tailAt + 2)}`) as Omit<NodeCoverageFile, 'result'>
  const body = text.slice(HEAD.length, tailAt)
  const result: ScriptCov[] = []
  let start = body.startsWith(ENTRY) ? 0 : -1
  if (start === -1 && body.length > 0) return JSON.parse(text) as NodeCoverageFile
  while (start !== -1) {
    const next = body.indexOf(`,${ENTRY}`, start + ENTRY.length)
    const chunk = body.slice(start, next === -1 ? body.length : next)
    const url = URL_AT_ENTRY_START.exec(chunk)?.[1]
    if (url === undefined) return JSON.parse(text) as NodeCoverageFile
    if (!obviouslyUnwanted(JSON.parse(url) as string)) {
      try {
        result.push(JSON.parse(chunk) as ScriptCov)
      } catch {
        // A boundary inside a string (never seen): do it the slow, certain way.
        return JSON.parse(text) as NodeCoverageFile
      }
    }
    start = next === -1 ? -1 : next + 1
  }
  return { ...tail, result }
}
