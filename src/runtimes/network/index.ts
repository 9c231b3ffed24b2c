import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { ScriptCov } from '../../coverage/v8-types.js'
import type { Runtime, RuntimeFactory, RuntimeRead } from '../types.js'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { mergeProcessCovs } from '../../coverage/merge-v8.js'
import { mergeInto } from '../../coverage/merge-into.js'
import { parseHostPort, readToken } from '../../network/address.js'
import { PathMapper } from '../../network/path-map.js'
import { CoverageDirReader } from '../node/read-dir.js'
import { isFileCoverage } from './validate.js'

/**
 * The network collector: servers started by something else (docker compose, pm2, another host),
 * whose processes run a network agent. Each agent registers over TCP with the shared token and
 * sends its coverage over that connection on every flush (src/network/payloads.ts puts complete
 * payloads in place); this runtime reads them like the Node runtime reads its own files, maps the
 * servers' paths to this checkout, and gives Node (V8) and Python (istanbul, 0/1 hits) parts.
 */
export const createNetworkRuntime: RuntimeFactory = async ({ options, dir, log }) => {
  const listen = parseHostPort(options.agents ?? '', 'agents')
  const token = readToken(options.tokenFile)
  const dirs = { incoming: join(dir, 'incoming'), v8: join(dir, 'v8'), istanbul: join(dir, 'istanbul') }
  for (const folder of Object.values(dirs)) await mkdir(folder, { recursive: true, mode: 0o700 })
  const mapper = new PathMapper(options.cwd, options.pathMap, log)
  const reader = new CoverageDirReader(dirs.v8)
  const local = (remote: string): string | undefined => mapper.map(remote)

  async function readIstanbul(accepts: (path: string) => boolean): Promise<{ data: CoverageMapData; files: number }> {
    const data: CoverageMapData = {}
    let files = 0
    for (const name of (await readdir(dirs.istanbul)).sort()) {
      const path = join(dirs.istanbul, name)
      let parsed: unknown
      try {
        parsed = JSON.parse(await readFile(path, 'utf8'))
      } catch {
        parsed = undefined
      }
      await rm(path, { force: true })
      files += 1
      if (parsed === null || typeof parsed !== 'object') {
        log(`dropped a Python coverage payload that is not JSON (${name})`)
        continue
      }
      for (const [remote, value] of Object.entries(parsed as Record<string, unknown>)) {
        if (!isFileCoverage(value)) {
          log(`dropped the coverage of ${remote} from a Python agent: not valid istanbul data`)
          continue
        }
        const file = local(remote)
        if (file === undefined || !accepts(file)) continue
        mergeInto(data, { [file]: { ...value, path: file } }, 'hits')
      }
    }
    return { data, files }
  }

  const runtime: Runtime = {
    env: {},
    network: { ...listen, token, dirs, onHashes: (hashes) => mapper.learn(hashes), log },
    async verify() {
      // Nothing was started here: agents come and go as their servers do.
    },
    async read({ filter }): Promise<RuntimeRead> {
      // A payload is moved into place only once complete: one that does not parse is corrupt now,
      // not "still being written" (the reader's `final`).
      const read = await reader.read((remote, hasMap) => {
        const file = local(remote)
        return file !== undefined && filter.script(file, hasMap)
      }, true)
      if (read.corrupt.length > 0) log(`skipped ${read.corrupt.length} unreadable coverage file(s) sent by network agents (not V8 coverage JSON): ${read.corrupt.join(', ')}`)
      // Replicas report the same file under their own paths: merge again once paths are local.
      const scripts: ScriptCov[] = read.processCov.result.map((script) => ({ ...script, url: pathToFileURL(local(fileURLToPath(script.url))!).href }))
      const merged = mergeProcessCovs(scripts.map((script) => ({ result: [script] }))).result
      const python = await readIstanbul(filter.accepts)
      return {
        coverage: [
          { format: 'v8', scripts: merged, sourceMaps: {}, sourcesDirs: [] },
          { format: 'istanbul', data: python.data, counts: 'hits' },
        ],
        processes: read.threads.size + python.files,
        files: read.files + python.files,
      }
    },
  }
  return runtime
}
