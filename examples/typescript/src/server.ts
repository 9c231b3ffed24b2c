import type { IncomingMessage, ServerResponse } from 'node:http'
import cluster from 'node:cluster'
import { createServer } from 'node:http'
import { type Discount, type LineItem, totalCents } from './prices.js'

const port = Number(process.env.PORT ?? 3000)
const workers = Number(process.env.WORKERS ?? 2)

async function readJson(req: IncomingMessage): Promise<unknown> {
  let body = ''
  for await (const chunk of req) body += chunk
  return JSON.parse(body)
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/health') {
    res.end('ok')
    return
  }
  if (req.method === 'POST' && req.url === '/total') {
    const { items, discount } = (await readJson(req)) as { items: LineItem[]; discount?: Discount }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ cents: totalCents(items, discount) }))
    return
  }
  res.statusCode = 404
  res.end()
}

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork()
} else {
  createServer((req, res) => {
    handle(req, res).catch(() => {
      res.statusCode = 400
      res.end()
    })
  }).listen(port, '127.0.0.1')
}
