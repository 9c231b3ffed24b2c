// Shared by the catalog and orders services: both servers run this file, and the report holds
// one entry for it whose counts are the sum of both servers' (never one overwriting the other).
export function formatCents(cents) {
  const euros = Math.floor(cents / 100)
  const rest = String(cents % 100).padStart(2, '0')
  return `€${euros}.${rest}`
}
