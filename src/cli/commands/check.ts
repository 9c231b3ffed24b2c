import type { Thresholds } from '../../report/thresholds.js'
import { defaultLog as log } from '../../messages.js'
import { loadCoverage } from '../../report/saved-data.js'
import { METRICS, checkThresholds, thresholdMessage } from '../../report/thresholds.js'
import { pathMappings } from '../path-map.js'
import { listFlag, parse, stringFlag, UsageError } from '../usage.js'

export const CHECK_HELP = `server-coverage check [--lines N] [--branches N] [--functions N] [--statements N] [--per-file] [<input>]

Checks coverage percentages of <input> (default coverage/coverage-final.json), globally or per file.
Exits 1 and lists what failed when a threshold is not met.`

/** `server-coverage check`: exit 1 when a threshold is not met. */
export async function checkCommand(args: string[], root: string): Promise<number> {
  const { values, positionals } = parse(args, {
    lines: { type: 'string' }, branches: { type: 'string' }, functions: { type: 'string' }, statements: { type: 'string' },
    'per-file': { type: 'boolean' }, 'path-map': { type: 'string', multiple: true },
  }, true)
  if (values.help) return void process.stdout.write(`${CHECK_HELP}\n`), 0
  const thresholds: Thresholds = {}
  for (const metric of METRICS) {
    const value = stringFlag(values, metric)
    if (value === undefined) continue
    const number = Number(value)
    if (!Number.isFinite(number) || number < 0 || number > 100) throw new UsageError(`expected the \`--${metric}\` option to be a percentage from 0 to 100, got \`${value}\``)
    thresholds[metric] = number
  }
  if (Object.keys(thresholds).length === 0) throw new UsageError('give at least one of --lines, --branches, --functions, --statements')
  const input = positionals[0] ?? 'coverage/coverage-final.json'
  const failures = checkThresholds(await loadCoverage(input, root, pathMappings(listFlag(values, 'path-map'))), thresholds, Boolean(values['per-file']))
  for (const failure of failures) log(thresholdMessage(failure))
  if (failures.length === 0) log(`${input} meets every threshold`)
  return failures.length === 0 ? 0 : 1
}
