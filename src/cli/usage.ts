import { parseArgs } from 'node:util'

/** A mistake in how the CLI was called: exit code 2, with a pointer to `--help`. */
export class UsageError extends Error {}

export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>
export type OptionsConfig = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>

/** `util.parseArgs` with `--help`, turning its errors into usage errors. */
export function parse(args: string[], options: OptionsConfig, allowPositionals: boolean): { values: ParsedValues; positionals: string[] } {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/** The string value of a flag, if given. */
export function stringFlag(values: ParsedValues, name: string): string | undefined {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

/** The values of a repeatable flag. */
export function listFlag(values: ParsedValues, name: string): string[] {
  const value = values[name]
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : typeof value === 'string' ? [value] : []
}

/**
 * Splits a comma-separated list, keeping commas inside braces: `src/**\/*.{js,ts},lib/**` is two
 * globs, not three.
 */
export function splitList(value: string): string[] {
  const items: string[] = []
  let depth = 0
  let current = ''
  for (const char of value) {
    if (char === '{') depth++
    else if (char === '}') depth = Math.max(0, depth - 1)
    if (char === ',' && depth === 0) {
      items.push(current)
      current = ''
    } else current += char
  }
  items.push(current)
  return items.map((item) => item.trim()).filter(Boolean)
}
