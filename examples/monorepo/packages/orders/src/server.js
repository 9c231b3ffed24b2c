// The orders service: one process.
import http from 'node:http'
import { formatCents } from '../../shared/src/money.js'

const orders = []

http
  .createServer((req, res) => {
    if (req.url === '/health') return res.end('ok')
    if (req.method === 'POST' && req.url === '/orders') {
      const order = { id: orders.length + 1, total: formatCents(1250 * (orders.length + 1)) }
      orders.push(order)
      res.statusCode = 201
      return res.end(JSON.stringify(order))
    }
    res.statusCode = 404
    res.end()
  })
  .listen(Number(process.env.PORT), '127.0.0.1')
