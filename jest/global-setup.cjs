'use strict'
// Jest `require`s its global setup; the implementation is ESM, so this CommonJS file loads it
// with import() and delegates. Plain CommonJS: no transform needed.
module.exports = async function serverCoverageGlobalSetup(globalConfig, projectConfig) {
  const { globalSetup } = await import('../dist/adapters/jest/setup.js')
  return globalSetup(globalConfig, projectConfig)
}
