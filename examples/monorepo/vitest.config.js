import { defineConfig } from 'vitest/config'

// One run from the root: each package with a vitest.config.js is a Vitest project with its own
// server; packages/shared is code both servers import (its coverage adds up across them);
// coverage options are root-level, so the report is one merged table.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.js'],
    coverage: { provider: 'v8', include: ['packages/*/src/**'], reporter: ['text', 'json'] },
  },
})
