'use strict'
// `require('server-coverage/jest')` from a CommonJS config file (jest.config.js, or
// server-coverage.config.cjs): only the config helper, which needs nothing from the ESM build.

/** Types a server-coverage config for Jest; returns it unchanged. */
function defineConfig(config) {
  return config
}

module.exports = { defineConfig }
