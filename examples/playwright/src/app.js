import express from 'express'
import { fileURLToPath } from 'node:url'
import { normalizeName, validateName } from './shared/names.js'

const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url))

export function createApp() {
  const app = express()
  app.use(express.json())
  app.use(express.static(PUBLIC_DIR))

  app.get('/health', (req, res) => {
    res.send('ok')
  })

  app.post('/api/users', (req, res) => {
    const error = validateName(req.body?.name)
    if (error) {
      res.status(400).json({ error })
      return
    }
    res.status(201).json({ name: normalizeName(req.body.name), worker: process.pid })
  })

  app.get('/api/users/:name/greeting', (req, res) => {
    const error = validateName(req.params.name)
    if (error) return res.status(400).json({ error })
    res.json({ greeting: `Hello, ${normalizeName(req.params.name)}!` })
  })

  app.delete('/api/users/:name', (req, res) => {
    // Never called by the tests: shows up as uncovered.
    res.status(204).end()
  })

  return app
}
