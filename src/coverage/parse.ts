import type { ParseFn } from './convert-script.js'
import { createRequire } from 'node:module'
import { parse } from 'acorn'

/** acorn and its version: what plans made from its trees (plan-store.ts) and code instrumented with it (the agent's cache) are stored under. */
export const ACORN = `acorn@${(createRequire(import.meta.url)('acorn/package.json') as { version: string }).version}`

/**
 * The default JavaScript parser for conversion (acorn, ESTree). Tries a module first, then a
 * sloppy-mode script, since CommonJS files may use syntax a module forbids.
 */
export const parseWithAcorn: ParseFn = Object.assign(
  (code: string) => {
    const options = { ecmaVersion: 'latest', allowHashBang: true, allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true } as const
    try {
      return parse(code, { ...options, sourceType: 'module', allowImportExportEverywhere: true })
    } catch {
      return parse(code, { ...options, sourceType: 'script' })
    }
  },
  { cacheKey: ACORN },
)
