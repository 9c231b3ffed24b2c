const request = require('supertest')

// The URL of the real cluster server that server-coverage started for this run.
const api = request(process.env.SERVER_URL)

describe('users API (real 4-worker cluster)', () => {
  test('lists users', async () => {
    const res = await api.get('/users').expect(200)
    expect(res.body).toEqual(expect.arrayContaining([{ id: 1, name: 'Ada' }]))
  })

  test('gets one user, and 404 for an unknown one', async () => {
    await api.get('/users/1').expect(200, { id: 1, name: 'Ada' })
    await api.get('/users/999').expect(404)
  })

  test('creates a user, and rejects a missing name', async () => {
    const res = await api.post('/users').send({ name: ' Grace ' }).expect(201)
    expect(res.body.name).toBe('Grace')
    await api.post('/users').send({}).expect(400)
  })

  test('requests are served by several workers', async () => {
    const pids = new Set()
    for (let i = 0; i < 20; i++) {
      const res = await api.get('/health').set('Connection', 'close').expect(200)
      pids.add(res.body.pid)
    }
    expect(pids.size).toBeGreaterThan(1)
  })
})
