import { defineConfig } from 'vitest/config'
import { serverCoverage } from 'server-coverage/vitest'

export default defineConfig({
  plugins: [
    // runtime 'python' is inferred from `uwsgi`; the ini stays untouched.
    serverCoverage({ command: 'uwsgi --ini run.ini', url: '/hello' }),
  ],
  test: {
    coverage: {
      provider: 'v8',
      reporter: ['text', 'json', 'html', 'lcov'],
    },
  },
})
