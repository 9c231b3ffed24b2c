import { defineConfig } from 'vitest/config'
import { serverCoverage } from 'server-coverage/vitest'

export default defineConfig({
  plugins: [serverCoverage({ command: 'node --import tsx src/server.ts', url: '/health', env: { WORKERS: '2' } })],
  test: {
    coverage: { provider: 'v8', include: ['src/**'], reporter: ['text', 'json'] },
  },
})
