// Used by both sides: the page checks a name before sending it, the server checks it again.

const MAX_LENGTH = 20

/** Why `name` is not acceptable, or null when it is. */
export function validateName(name) {
  if (typeof name !== 'string') return 'name must be a string'
  const trimmed = name.trim()
  if (trimmed.length < 2) return 'name is too short'
  if (trimmed.length > MAX_LENGTH) return `name is longer than ${MAX_LENGTH} characters`
  if (!/^[\p{L} '-]+$/u.test(trimmed)) return 'name may only contain letters, spaces, hyphens and apostrophes'
  return null
}

/** "  ada  lovelace " → "Ada Lovelace". */
export function normalizeName(name) {
  return name
    .trim()
    .split(/\s+/)
    .map((word) => word[0].toUpperCase() + word.slice(1).toLowerCase())
    .join(' ')
}
