// The Express app in a node:cluster server, as it runs in production: the primary forks the
// workers, each serves the app (API and page) on the shared port.
import cluster from 'node:cluster'
import { createApp } from './src/app.js'

const port = Number(process.env.PORT ?? 3000)
const workers = Number(process.env.WORKERS ?? 2)

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork()
} else {
  createApp().listen(port, '127.0.0.1')
}
