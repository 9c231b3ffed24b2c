import type { CoverageMapData } from 'istanbul-lib-coverage'
import { mergeInto } from '../../coverage/merge-into.js'
import { defaultLog as log, unmatchedMessage } from '../../messages.js'
import { loadCoverage, writeCoverageJson } from '../../report/saved-data.js'
import { pathMappings } from '../path-map.js'
import { listFlag, parse, stringFlag, UsageError } from '../usage.js'

export const MERGE_HELP = `server-coverage merge <dir|coverage-final.json...> --out coverage/coverage-final.json [--path-map from=to]

Merges saved server data and istanbul reports (e.g. CI shards) into one coverage-final.json. Files
present in several inputs are merged by location, never counted twice. --path-map from=to
(repeatable) rewrites path prefixes of data produced in another checkout.`

/** `server-coverage merge`: adds inputs by the core's one rule into one coverage-final.json. */
export async function mergeCommand(args: string[], root: string): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string' }, 'path-map': { type: 'string', multiple: true } }, true)
  if (values.help) return void process.stdout.write(`${MERGE_HELP}\n`), 0
  if (positionals.length === 0) throw new UsageError('give the folders or coverage-final.json files to merge')
  const out = stringFlag(values, 'out')
  if (!out) throw new UsageError('give `--out <file>`, e.g. `--out coverage/coverage-final.json`')
  const mappings = pathMappings(listFlag(values, 'path-map'))
  const merged: CoverageMapData = {}
  for (const input of positionals) {
    for (const [file, count] of mergeInto(merged, await loadCoverage(input, root, mappings))) log(unmatchedMessage(file, count, `the other inputs' map of it (in ${input})`))
  }
  await writeCoverageJson(out, merged)
  log(`merged ${positionals.length} input(s), ${Object.keys(merged).length} files, into ${out}`)
  return 0
}
