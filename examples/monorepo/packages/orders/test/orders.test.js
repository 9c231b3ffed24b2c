import { expect, inject, test } from 'vitest'

test('orders are created', async () => {
  const res = await fetch(`${inject('serverUrl')}/orders`, { method: 'POST' })
  expect(res.status).toBe(201)
  expect(Object.keys(inject('serverUrls'))).toEqual(['orders'])
})
