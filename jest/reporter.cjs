'use strict'
// Jest constructs reporters synchronously from what `require` returns, and does not transform
// them. The implementation is ESM: each method awaits it, loaded once in the constructor.
class ServerCoverageReporter {
  constructor(globalConfig, reporterOptions, reporterContext) {
    this._reporter = import('../dist/adapters/jest/reporter.js').then(
      ({ ServerCoverageReporter: Reporter }) => new Reporter(globalConfig, reporterOptions, reporterContext),
    )
    // A load failure surfaces from the first method Jest awaits, not as an unhandled rejection.
    this._reporter.catch(() => {})
  }

  async onRunStart(aggregatedResults, options) {
    return (await this._reporter).onRunStart(aggregatedResults, options)
  }

  async onTestFileResult(test, testResult, aggregatedResults) {
    return (await this._reporter).onTestFileResult(test, testResult, aggregatedResults)
  }

  async onRunComplete(testContexts, aggregatedResults) {
    return (await this._reporter).onRunComplete(testContexts, aggregatedResults)
  }
}

module.exports = ServerCoverageReporter
