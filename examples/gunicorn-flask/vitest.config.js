import { defineConfig } from 'vitest/config'
import { serverCoverage } from 'server-coverage/vitest'

export default defineConfig({
  plugins: [serverCoverage({ command: 'gunicorn --workers 4 --bind 127.0.0.1:{port} app:app', url: '/hello' })],
  test: { coverage: { provider: 'v8', reporter: ['text', 'json', 'html', 'lcov'] } },
})
