import request from 'supertest'
import { describe, expect, inject, test } from 'vitest'

// The URL of the real uWSGI server (4 workers x 2 threads) that server-coverage started.
const api = request(inject('serverUrl'))

describe('Flask app under uWSGI', () => {
  test('/ answers', async () => {
    await api.get('/').expect(200, 'Hello from uWSGI')
  })

  test('/hello greets', async () => {
    const res = await api.get('/hello').expect(200)
    expect(res.body).toEqual({ message: 'hello', greeting: 'hello, world' })
  })
})
