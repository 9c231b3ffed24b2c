import type { RuntimeFactory } from '../types.js'
import { ServerCoverageError } from '../../errors.js'

/** Placeholder until the Python runtime lands: says so instead of failing obscurely. */
export const createPythonRuntime: RuntimeFactory = async ({ options }) => {
  throw new ServerCoverageError(
    'INVALID_OPTION',
    `server-coverage: "${options.command}" is a Python server (\`runtime: 'python'\`), which is not supported yet. ` +
      "Set `runtime: 'node'` if it is a Node server.",
  )
}
