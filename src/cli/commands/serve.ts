import type { SessionRead } from '../../collect.js'
import { join } from 'node:path'
import { AttachHost } from '../../attach/host.js'
import { removeServeInfo, serveInfoFile, writeServeInfo } from '../../attach/discover.js'
import { convertRead } from '../../collect.js'
import { defaultLog as log } from '../../messages.js'
import { resolveServers } from '../../options.js'
import { ServerCoverageSession } from '../../session.js'
import { OUTPUT_FLAGS, OUTPUT_FLAGS_HELP, outputsFromFlags, writeOutputs } from '../outputs.js'
import { SERVER_FLAGS, SERVER_FLAGS_HELP } from '../server-flags.js'
import { parse } from '../usage.js'
import { serversFromArgs } from './run.js'

export const SERVE_HELP = `server-coverage serve [server options] [output options]

Boots the server(s) under coverage and stays up in the foreground, for tests run by anything, any
number of times. Prints the URL and the attach address, also written to .server-coverage/serve.json
(mode 0600, removed when it stops). Then:
  server-coverage snapshot [output options]   writes the coverage so far (nothing stops)
  server-coverage stop [output options]       flushes, stops the servers, writes the final report
  SERVER_COVERAGE_ATTACH=<address> <runner>   Vitest, Jest, Playwright and \`run\` attach to it: the
                                              coverage since the attach enters their report
Ctrl+C stops it too and writes the final report with the output options given here.

${SERVER_FLAGS_HELP}

${OUTPUT_FLAGS_HELP}`

/** `server-coverage serve`: a session in the foreground that snapshots, stops and runners attach to. */
export async function serveCommand(args: string[], root: string): Promise<number> {
  const { values } = parse(args, { ...SERVER_FLAGS, ...OUTPUT_FLAGS, config: { type: 'string' } }, false)
  if (values.help) return void process.stdout.write(`${SERVE_HELP}\n`), 0
  const outputs = outputsFromFlags(values)
  const servers = resolveServers(await serversFromArgs(values, root), root)
  const session = await ServerCoverageSession.start({ servers })
  let stoppedBy: 'signal' | 'client' | undefined
  let onStopped: (read: SessionRead) => void = () => {}
  const stopped = new Promise<SessionRead>((resolve) => (onStopped = resolve))
  const host = new AttachHost(session, join(session.dataDir, 'attach.sock'), (read) => {
    stoppedBy ??= 'client'
    onStopped(read)
  })
  const onSignal = (): void => {
    stoppedBy ??= 'signal'
    log('stopping (signal)…')
    void host.stop()
  }
  try {
    await host.listen()
    await writeServeInfo(root, { address: host.socketPath, urls: session.urls, pid: process.pid })
    for (const [name, url] of Object.entries(session.urls)) log(`serving ${url} (${name})`)
    log(`attach with SERVER_COVERAGE_ATTACH=${host.socketPath} (also in ${serveInfoFile(root)})`)
    log('`server-coverage snapshot` writes the coverage so far; `server-coverage stop` or Ctrl+C stops and writes the final report')
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    const read = await stopped
    if (stoppedBy === 'signal') {
      const collected = await convertRead(read, {}, Date.now(), log)
      await writeOutputs(collected.data, outputs, root)
    } else {
      log('stopped by `server-coverage stop`, which writes the final report')
    }
    return 0
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await host.close().catch(() => undefined)
    await session.stop().catch(() => undefined)
    await removeServeInfo(root)
  }
}
