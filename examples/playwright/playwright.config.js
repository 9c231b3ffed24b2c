import { existsSync } from 'node:fs'
import { defineConfig } from '@playwright/test'
import { withServerCoverage } from 'server-coverage/playwright'

// Debian's Chromium when there is one (`npx playwright install` cannot download everywhere).
const chromium = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined

export default withServerCoverage(
  defineConfig({
    testDir: 'tests',
    fullyParallel: true,
    webServer: { command: 'node server.js', url: '/health', env: { WORKERS: '2' } },
    use: {
      launchOptions: {
        executablePath: chromium,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      },
    },
  }),
  { include: ['src/**', 'server.js'], reporter: ['text', 'html', 'lcov', 'json'] },
)
