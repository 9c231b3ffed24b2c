import type { FullConfig } from '@playwright/test'
import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { RunState } from './state.js'
import { join, resolve } from 'node:path'
import { saveData } from '../../report/saved-data.js'
import { checkThresholds, thresholdMessage } from '../../report/thresholds.js'
import { writeReports } from '../../report/write.js'
import { withPrefix } from '../../messages.js'

/** An error Playwright prints as it is: the message says everything, a stack would only add noise. */
function runError(message: string): Error {
  const error = new Error(withPrefix(message))
  error.stack = error.message
  return error
}

/**
 * Writes the run's reports (the `text` table to stdout), saves a shard's data for
 * `server-coverage merge`, and checks the thresholds: throws, failing the run, when one is not met.
 */
export async function writeRunReports(data: CoverageMapData, run: RunState, shard: FullConfig['shard'], log: (line: string) => void): Promise<void> {
  const { reporter, reportsDirectory, thresholds } = run.stash.options
  const dir = resolve(run.configDir, reportsDirectory)
  writeReports(data, reporter, dir, run.configDir)
  log(`wrote ${reporter.join(', ')} coverage report${reporter.length === 1 ? '' : 's'} of ${Object.keys(data).length} files to ${dir}`)
  if (shard) {
    const saved = await saveData(join(dir, `shard-${shard.current}-of-${shard.total}`), data, run.configDir)
    log(`shard ${shard.current}/${shard.total}: saved its data to ${saved}; combine the shards with \`server-coverage merge ${reportsDirectory}/shard-*-of-${shard.total} --out ${reportsDirectory}/coverage-final.json\``)
  }
  if (!thresholds) return
  const { perFile = false, ...metrics } = thresholds
  if (shard) {
    log('thresholds are not checked per shard: check the merged data with `server-coverage check`')
    return
  }
  const failures = checkThresholds(data, metrics, perFile)
  if (failures.length === 0) return
  throw runError(failures.map((failure) => `${thresholdMessage(failure)} (\`thresholds.${failure.metric}\`)`).join('\n'))
}
