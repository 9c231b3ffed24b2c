import { defineProject } from 'vitest/config'
import { serverCoverage } from 'server-coverage/vitest'

export default defineProject({
  plugins: [serverCoverage({ name: 'orders', command: 'node src/server.js', url: '/health' })],
  test: { name: 'orders' },
})
