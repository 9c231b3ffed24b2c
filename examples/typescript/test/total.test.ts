import request from 'supertest'
import { expect, inject, test } from 'vitest'

const api = request(inject('serverUrl'))

test('totals a basket', async () => {
  const items = [{ sku: 'a', unitCents: 250, quantity: 4 }]
  await api.post('/total').send({ items }).expect(200, { cents: 1000 })
  await api.post('/total').send({ items, discount: { kind: 'percent', value: 10 } }).expect(200, { cents: 900 })
})

test('rejects a malformed body', async () => {
  await api.post('/total').set('content-type', 'application/json').send('{').expect(400)
})
