'use strict'
// Jest `require`s its global teardown; the implementation is ESM (see global-setup.cjs).
module.exports = async function serverCoverageGlobalTeardown(globalConfig, projectConfig) {
  const { globalTeardown } = await import('../dist/adapters/jest/teardown.js')
  return globalTeardown(globalConfig, projectConfig)
}
