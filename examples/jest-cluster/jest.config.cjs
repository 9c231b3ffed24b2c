// The three server-coverage lines, plus ordinary Jest coverage options.
module.exports = {
  globalSetup: 'server-coverage/jest/global-setup',
  globalTeardown: 'server-coverage/jest/global-teardown',
  reporters: ['default', 'server-coverage/jest/reporter'],
  collectCoverage: true,
  coverageProvider: 'v8',
  collectCoverageFrom: ['src/**', 'server.js'],
  coverageReporters: ['text', 'json', 'html', 'lcov'],
  // The app is ESM (package "type": "module"); the tests are CommonJS, which Jest runs without flags.
  testMatch: ['<rootDir>/test/**/*.test.cjs'],
}
