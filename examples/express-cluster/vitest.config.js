import { defineConfig } from 'vitest/config'
import { serverCoverage } from 'server-coverage/vitest'

export default defineConfig({
  plugins: [
    serverCoverage({
      command: 'node server.js',
      url: '/health',
      env: { WORKERS: '4' },
    }),
  ],
  test: {
    coverage: {
      provider: 'v8',
      include: ['src/**', 'server.js'],
      reporter: ['text', 'json', 'html', 'lcov'],
    },
  },
})
