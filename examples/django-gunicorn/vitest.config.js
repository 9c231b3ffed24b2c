import { defineConfig } from 'vitest/config'
import { serverCoverage } from 'server-coverage/vitest'

export default defineConfig({
  plugins: [
    // runtime 'python' is inferred from `gunicorn`; the Django project stays untouched. `include`:
    // the project package (gunicorn never runs manage.py).
    serverCoverage({ command: 'gunicorn --workers 4 --bind 127.0.0.1:{port} shop.wsgi', url: '/health', include: ['shop/**'] }),
  ],
  test: {
    coverage: {
      provider: 'v8',
      reporter: ['text', 'json', 'html', 'lcov'],
    },
  },
})
