// The parts of Jest's configs and results this adapter reads or writes. Declared structurally
// instead of importing `@jest/types`, so one build works with whichever Jest (29 or 30) the
// project installed, and our published types do not depend on Jest's.
import type { CoverageMapData } from 'istanbul-lib-coverage'
import type { ScriptCov } from '../../coverage/v8-types.js'

/** Jest's resolved global config (the first argument of globalSetup, and of reporters). */
export interface JestGlobalConfig {
  rootDir: string
  collectCoverage: boolean
  collectCoverageFrom?: string[]
  coverageProvider?: 'babel' | 'v8'
  /** Project paths or inline project configs, as written in the root config. */
  projects?: (string | Record<string, unknown>)[]
  watch?: boolean
  watchAll?: boolean
}

/** Jest's resolved project config; `shouldInstrument` reads more fields than named here. */
export interface JestProjectConfig {
  rootDir: string
  displayName?: { name: string; color?: string } | undefined
  [key: string]: unknown
}

/** A test file as reporters see it. */
export interface JestTest {
  path: string
  context: { config: JestProjectConfig }
}

/** What Jest's v8 CoverageReporter expects in `testResult.v8Coverage` (see its `_getCoverageResult`). */
export interface V8CoverageEntry {
  /** The code V8 ran, the original source and a source map file from the one to the other. */
  codeTransformResult: { code: string; originalCode: string; sourceMapPath: string | null } | undefined
  /** Raw V8 coverage of one script; `url` is an absolute path (not `file://`). */
  result: ScriptCov
}

/** One test file's result, as `onTestFileResult` receives it. */
export interface JestTestResult {
  testFilePath: string
  /** Istanbul data of the file's run (babel provider). */
  coverage?: CoverageMapData | undefined
  /** Raw V8 coverage of the file's run (v8 provider). */
  v8Coverage?: V8CoverageEntry[] | undefined
}
