import type { CoverageMapData, FileCoverageData } from 'istanbul-lib-coverage'
import type { CoverageStash } from './config.js'
import { readFileSync } from 'node:fs'
import { browserScripts, readBrowserCounts } from '../../browser/store.js'
import { convertScripts } from '../../coverage/convert.js'
import { reportFilter } from '../../coverage/filter.js'
import { mergeInto } from '../../coverage/merge-into.js'
import { defaultParser } from '../../coverage/parse.js'

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * The browser's coverage of the run, as istanbul data: every worker's counts added up per file,
 * then converted once per file from the file itself, with the parser and converter the server's
 * files go through (so a file both sides ran has one statement map). Only reported files are kept.
 */
export async function browserCoverage(dir: string, configDir: string, options: CoverageStash['options'], log: (line: string) => void): Promise<CoverageMapData> {
  const counts = readBrowserCounts(dir)
  for (const note of counts.notes) log(note)
  const filter = reportFilter({ cwd: configDir, include: options.include, exclude: options.exclude })
  const reported = Object.fromEntries(Object.entries(counts.files).filter(([path]) => filter.accepts(path)))
  const { scripts, changed } = browserScripts(reported, readText)
  for (const path of changed) log(`${path} changed after the tests ran; its browser coverage is left out`)
  const conversion = await convertScripts(scripts, {}, await defaultParser())
  for (const failure of conversion.failed) log(`could not convert the browser coverage of ${failure.path}: ${failure.reason} (left out of the report)`)
  mergeInto(conversion.data, Object.fromEntries(Object.entries(counts.istanbul).filter(([path]) => filter.accepts(path))))
  // A minified bundle can give an `if` fewer runs than its body (the minifier merged them): the
  // converter's implicit-else arm then comes out negative. Nothing ran a negative number of times.
  for (const file of Object.values(conversion.data)) {
    for (const hits of Object.values((file as FileCoverageData).b)) hits.forEach((hit, index) => void (hits[index] = Math.max(0, hit)))
  }
  return conversion.data
}
