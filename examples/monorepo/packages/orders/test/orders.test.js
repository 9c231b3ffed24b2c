import { expect, inject, test } from 'vitest'

test('orders are created with their total (5 requests)', async () => {
  for (let i = 1; i <= 5; i++) {
    const res = await fetch(`${inject('serverUrl')}/orders`, { method: 'POST' })
    expect(res.status).toBe(201)
    expect((await res.json()).id).toBe(i)
  }
  expect(Object.keys(inject('serverUrls'))).toEqual(['orders'])
})
