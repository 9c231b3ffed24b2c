import { defineProject } from 'vitest/config'
import { serverCoverage } from 'server-coverage/vitest'

export default defineProject({
  plugins: [serverCoverage({ name: 'catalog', command: 'node src/server.js', url: '/health' })],
  test: { name: 'catalog' },
})
