import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { ReporterName } from '../report/write.js'
import type { ParsedValues } from './usage.js'
import { join, resolve } from 'node:path'
import { mergeInto } from '../coverage/merge-into.js'
import { defaultLog as log, unmatchedMessage } from '../messages.js'
import { loadCoverage, saveData, writeCoverageJson } from '../report/saved-data.js'
import { parseReporters, writeReports } from '../report/write.js'
import { stringFlag } from './usage.js'

/** Where the coverage of a run goes: `run`, `serve`, `snapshot` and `stop` share these flags. */
export interface Outputs {
  mergeInto: string | undefined
  dataDir: string | undefined
  reporters: ReporterName[]
  reportsDir: string
}

export const OUTPUT_FLAGS = {
  'merge-into': { type: 'string' },
  'data-dir': { type: 'string' },
  reporter: { type: 'string' },
  'reports-dir': { type: 'string' },
} as const

export const OUTPUT_FLAGS_HELP = `Output options:
  --merge-into <coverage-final.json>  add the server coverage to a report another tool wrote
  --data-dir <dir>                save the server data (portable) for a later merge/report
  --reporter <list>               reports to write (default text,json; "none" for none)
  --reports-dir <dir>             where reports go (default coverage)`

/** Reads the output flags. */
export function outputsFromFlags(values: ParsedValues): Outputs {
  const reporter = stringFlag(values, 'reporter') ?? 'text,json'
  return {
    mergeInto: stringFlag(values, 'merge-into'),
    dataDir: stringFlag(values, 'data-dir'),
    reporters: reporter === 'none' ? [] : parseReporters(reporter),
    reportsDir: stringFlag(values, 'reports-dir') ?? 'coverage',
  }
}

/** Writes server coverage where `outputs` says: saved data, merged into a report, reports. */
export async function writeOutputs(data: CoverageMapData, outputs: Outputs, root: string): Promise<void> {
  if (outputs.dataDir) {
    const file = await saveData(resolve(root, outputs.dataDir), data, root)
    log(`saved the server data to ${file}`)
  }
  let reported = data
  if (outputs.mergeInto) {
    const target = resolve(root, outputs.mergeInto)
    const existing = await loadCoverage(target, root, [])
    for (const [file, count] of mergeInto(existing, data)) log(unmatchedMessage(file, count, `${outputs.mergeInto}'s map of it`))
    await writeCoverageJson(target, existing)
    log(`merged the server coverage into ${target}`)
    reported = existing
  }
  if (outputs.reporters.length > 0) {
    const dir = resolve(root, outputs.reportsDir)
    writeReports(reported, outputs.reporters, dir, root)
    if (outputs.reporters.includes('json')) log(`wrote ${join(dir, 'coverage-final.json')}`)
  }
}
