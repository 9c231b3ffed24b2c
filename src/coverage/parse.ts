import type { ParseFn } from './convert-script.js'
import { parse } from 'acorn'

/**
 * The default JavaScript parser for conversion (acorn, ESTree). Tries a module first, then a
 * sloppy-mode script, since CommonJS files may use syntax a module forbids.
 */
export const parseWithAcorn: ParseFn = (code) => {
  const options = { ecmaVersion: 'latest', allowHashBang: true, allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true } as const
  try {
    return parse(code, { ...options, sourceType: 'module', allowImportExportEverywhere: true })
  } catch {
    return parse(code, { ...options, sourceType: 'script' })
  }
}
