// Which server to boot under coverage: the same options as the Vitest plugin's.
import { defineConfig } from 'server-coverage/jest'

export default defineConfig({
  command: 'node server.js',
  url: '/health',
  env: { WORKERS: '4' },
})
