import { expect, test } from 'server-coverage/playwright'

test('creates a user with a normalized name', async ({ request }) => {
  const response = await request.post('/api/users', { data: { name: '  ada  LOVELACE ' } })
  expect(response.status()).toBe(201)
  expect((await response.json()).name).toBe('Ada Lovelace')
})

test('rejects a name with digits', async ({ request }) => {
  const response = await request.post('/api/users', { data: { name: 'R2D2' } })
  expect(response.status()).toBe(400)
  expect((await response.json()).error).toMatch(/only contain letters/)
})

test('greets a user', async ({ request }) => {
  const response = await request.get('/api/users/alan%20turing/greeting')
  expect(await response.json()).toEqual({ greeting: 'Hello, Alan Turing!' })
})
