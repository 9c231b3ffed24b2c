// The client the front end uses to talk to the service (run by the tests, covered by Vitest itself).
export interface Quote {
  sku: string
  quantity: number
  total: number
  served_by: number
}

export async function fetchQuote(baseUrl: string, sku: string, quantity: number): Promise<Quote> {
  const response = await fetch(`${baseUrl}/quote/${encodeURIComponent(sku)}?quantity=${quantity}`, { headers: { connection: 'close' } })
  if (!response.ok) throw new Error(`quote for ${sku} failed with ${response.status}`)
  return (await response.json()) as Quote
}

export function formatTotal(cents: number): string {
  return `€${(cents / 100).toFixed(2)}`
}
