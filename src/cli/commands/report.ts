import { loadCoverage } from '../../report/saved-data.js'
import { parseReporters, writeReports } from '../../report/write.js'
import { pathMappings } from '../path-map.js'
import { listFlag, parse, stringFlag } from '../usage.js'

export const REPORT_HELP = `server-coverage report [--reporter text,html,lcov,json,json-summary,cobertura] [--reports-dir coverage] [<input>]

Writes reports from saved data: <input> is a --data-dir folder, a server-coverage.json or a
coverage-final.json (default coverage/coverage-final.json). --path-map from=to rewrites paths.`

/** `server-coverage report`: istanbul reports from saved data or a coverage-final.json. */
export async function reportCommand(args: string[], root: string): Promise<number> {
  const { values, positionals } = parse(args, { reporter: { type: 'string' }, 'reports-dir': { type: 'string' }, 'path-map': { type: 'string', multiple: true } }, true)
  if (values.help) return void process.stdout.write(`${REPORT_HELP}\n`), 0
  const data = await loadCoverage(positionals[0] ?? 'coverage/coverage-final.json', root, pathMappings(listFlag(values, 'path-map')))
  writeReports(data, parseReporters(stringFlag(values, 'reporter') ?? 'text'), stringFlag(values, 'reports-dir') ?? 'coverage', root)
  return 0
}
