// The catalog service: a 2-worker cluster.
import cluster from 'node:cluster'
import http from 'node:http'
import { formatCents } from '../../shared/src/money.js'

const products = { 1: { id: 1, name: 'kettle', cents: 2500 }, 2: { id: 2, name: 'mug', cents: 800 } }

if (cluster.isPrimary) {
  for (let i = 0; i < 2; i++) cluster.fork()
} else {
  http
    .createServer((req, res) => {
      if (req.url === '/health') return res.end('ok')
      const match = /^\/products\/(\d+)$/.exec(req.url ?? '')
      const product = match && products[match[1]]
      if (!product) {
        res.statusCode = 404
        return res.end()
      }
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ ...product, price: formatCents(product.cents) }))
    })
    .listen(Number(process.env.PORT), '127.0.0.1')
}
