// The Express app: a tiny in-memory users API. It knows nothing about clusters or coverage.
import express from 'express'

export function createApp() {
  const app = express()
  app.use(express.json())
  const users = new Map([[1, { id: 1, name: 'Ada' }]])
  let nextId = 2

  app.get('/health', (req, res) => {
    res.json({ ok: true, pid: process.pid })
  })

  app.get('/users', (req, res) => {
    res.json([...users.values()])
  })

  app.get('/users/:id', (req, res) => {
    const user = users.get(Number(req.params.id))
    if (!user) {
      res.status(404).json({ error: 'not found' })
      return
    }
    res.json(user)
  })

  app.post('/users', (req, res) => {
    const name = req.body?.name
    if (typeof name !== 'string' || name.trim() === '') {
      res.status(400).json({ error: 'name is required' })
      return
    }
    const user = { id: nextId++, name: name.trim() }
    users.set(user.id, user)
    res.status(201).json(user)
  })

  app.delete('/users/:id', (req, res) => {
    // Not exercised by the tests: shows up as uncovered in the report.
    users.delete(Number(req.params.id))
    res.status(204).end()
  })

  return app
}
