/** How to spawn a command: an argv run directly, or a string for `/bin/sh -c`. */
export type SpawnPlan = { file: string; args: string[]; shell: false } | { file: string; args: string[]; shell: true }

/** Characters that only a shell understands: their presence means the user asked for one. */
const SHELL_SYNTAX = /[|&;<>()$`\\"'*?[\]#~=%{}\n]/

/**
 * Turns a command string into a spawn plan. Plain words are split on whitespace and run without a
 * shell (no interpolation of user values); anything with shell syntax (quotes, pipes, `$VAR`, `&&`,
 * `VAR=x cmd`) runs under `/bin/sh -c`, because that is what the user wrote.
 */
export function planCommand(command: string): SpawnPlan {
  const trimmed = command.trim()
  if (SHELL_SYNTAX.test(trimmed)) return { file: '/bin/sh', args: ['-c', trimmed], shell: true }
  const [file = '', ...args] = trimmed.split(/\s+/)
  return { file, args, shell: false }
}

/** Replaces every `{port}` placeholder. */
export function substitutePort(text: string, port: number): string {
  return text.replaceAll('{port}', String(port))
}
