import { defineConfig } from 'vitest/config'

// One run from the root: each package is a Vitest project with its own server (see its config);
// coverage options are root-level, so the report is one merged table.
export default defineConfig({
  test: {
    projects: ['packages/*'],
    coverage: { provider: 'v8', include: ['packages/*/src/**'], reporter: ['text', 'json'] },
  },
})
