import { defineConfig } from 'vitest/config'
import { serverCoverage } from 'server-coverage/vitest'

export default defineConfig({
  plugins: [
    // runtime 'python' is inferred from `python3 -m uvicorn`. Debian's python3-uvicorn has no
    // `uvicorn` script and `python3` on PATH may be another Python: name Debian's. With uvicorn
    // installed by pip, `uvicorn app.main:app --workers 4 --port {port}` works the same.
    // The server's `include` decides for its own files (Coverage.py measures app/ only).
    serverCoverage({ command: '/usr/bin/python3 -m uvicorn app.main:app --workers 4 --port {port}', url: '/health', include: ['app/**'] }),
  ],
  test: {
    coverage: {
      provider: 'v8',
      // Vitest's own files: the TypeScript client (Vitest would try to parse .py files as JavaScript).
      include: ['client/**'],
      reporter: ['text', 'json', 'html', 'lcov'],
    },
  },
})
