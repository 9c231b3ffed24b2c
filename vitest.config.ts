import { defineConfig } from 'vitest/config'

// The suite boots real clusters and real runners: on 2 cores, two test files at a time keeps it
// fast and steady (each e2e file runs its cases one after another).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/fixtures/**', '.e2e-tmp/**', 'compat/**', 'examples/**'],
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
