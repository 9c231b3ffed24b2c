import { AttachedSession } from '../../attach/client.js'
import { findServe } from '../../attach/discover.js'
import { convertRead } from '../../collect.js'
import { defaultLog as log } from '../../messages.js'
import { OUTPUT_FLAGS, OUTPUT_FLAGS_HELP, outputsFromFlags, writeOutputs } from '../outputs.js'
import { parse, stringFlag } from '../usage.js'

export const SNAPSHOT_HELP = `server-coverage snapshot [--attach <address>] [output options]

Writes the coverage of a running \`server-coverage serve\` so far, from every process, without
stopping anything: cumulative since the serve started (each snapshot holds everything before it).
The serve is found through --attach, else SERVER_COVERAGE_ATTACH, else .server-coverage/serve.json.

${OUTPUT_FLAGS_HELP}`

export const STOP_HELP = `server-coverage stop [--attach <address>] [output options]

Flushes every process of a running \`server-coverage serve\`, stops its servers, writes the final
report (everything since the serve started) and ends the serve. Found as for \`snapshot\`.

${OUTPUT_FLAGS_HELP}`

async function withServe(args: string[], root: string, help: string, what: 'snapshot' | 'stop'): Promise<number> {
  const { values } = parse(args, { ...OUTPUT_FLAGS, attach: { type: 'string' } }, false)
  if (values.help) return void process.stdout.write(`${help}\n`), 0
  const outputs = outputsFromFlags(values)
  const { address, from } = await findServe(root, stringFlag(values, 'attach'))
  const startedAt = Date.now()
  const serve = await AttachedSession.connect(address, { from, log: () => {} })
  const read = what === 'snapshot' ? await serve.snapshot() : await serve.stopServe()
  if (what === 'snapshot') await serve.stop()
  const collected = await convertRead(read, {}, startedAt, log)
  await writeOutputs(collected.data, outputs, root)
  log(what === 'snapshot' ? 'snapshot written; the servers keep running' : 'the serve stopped')
  return 0
}

/** `server-coverage snapshot`. */
export function snapshotCommand(args: string[], root: string): Promise<number> {
  return withServe(args, root, SNAPSHOT_HELP, 'snapshot')
}

/** `server-coverage stop`. */
export function stopCommand(args: string[], root: string): Promise<number> {
  return withServe(args, root, STOP_HELP, 'stop')
}
