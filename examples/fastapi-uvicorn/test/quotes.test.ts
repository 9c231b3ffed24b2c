import request from 'supertest'
import { describe, expect, inject, test } from 'vitest'
import { fetchQuote, formatTotal } from '../client/quotes'

// The URL of the real uvicorn server (4 workers) that server-coverage started.
const baseUrl = inject('serverUrl')

describe('FastAPI under uvicorn, 4 workers', () => {
  test('every worker quotes (each answers with its pid)', async () => {
    const workers = new Set<number>()
    for (let round = 0; round < 50 && workers.size < 4; round++) {
      const quotes = await Promise.all(Array.from({ length: 8 }, () => fetchQuote(baseUrl, 'apple', 2)))
      for (const quote of quotes) workers.add(quote.served_by)
    }
    expect(workers.size).toBe(4)
  })

  test('bulk orders get 10% off', async () => {
    const quote = await fetchQuote(baseUrl, 'pear', 10)
    expect(formatTotal(quote.total)).toBe('€4.05')
  })

  test('a quantity below 1 is refused', async () => {
    const res = await request(baseUrl).get('/quote/apple?quantity=0').expect(422)
    expect(res.body.detail).toBe('quantity must be at least 1')
  })
})
