// A 4-worker node:cluster server, the way it runs in production: the primary forks the workers,
// each worker serves the Express app on the shared port.
import cluster from 'node:cluster'
import { availableParallelism } from 'node:os'
import { createApp } from './src/app.js'

const port = Number(process.env.PORT ?? 3000)
const workers = Number(process.env.WORKERS ?? Math.min(4, availableParallelism() * 2))

if (cluster.isPrimary) {
  console.log(`primary ${process.pid}: starting ${workers} workers on port ${port}`)
  for (let i = 0; i < workers; i++) cluster.fork()
  cluster.on('exit', (worker, code, signal) => {
    console.log(`worker ${worker.process.pid} exited (${signal ?? code})`)
  })
} else {
  createApp().listen(port, '127.0.0.1')
}
