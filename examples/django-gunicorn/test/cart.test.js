import request from 'supertest'
import { describe, expect, inject, test } from 'vitest'

// The URL of the real gunicorn server (4 workers) that server-coverage started.
const api = request(inject('serverUrl'))

describe('Django under gunicorn, 4 workers', () => {
  test('every worker serves', async () => {
    const workers = new Set()
    for (let round = 0; round < 50 && workers.size < 4; round++) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => api.get('/worker').set('connection', 'close').expect(200)))
      for (const res of answers) workers.add(res.body.pid)
    }
    expect(workers.size).toBe(4)
  })

  test('a cart of 5 items gets 5% off', async () => {
    const res = await api.post('/cart/total').send({ apple: 3, pear: 2 }).expect(200)
    expect(res.body.total).toBe(171)
  })

  test('an unknown item is a 400', async () => {
    const res = await api.post('/cart/total').send({ plum: 1 }).expect(400)
    expect(res.body.error).toBe("unknown item 'plum'")
  })
})
