import request from 'supertest'
import { expect, inject, test } from 'vitest'

test('/hello greets (real gunicorn, 4 workers)', async () => {
  const res = await request(inject('serverUrl')).get('/hello').expect(200)
  expect(res.body.greeting).toBe('hello, world')
})
