import { createRequire } from 'node:module'
import { defineConfig } from 'vitest/config'

const ts = createRequire(import.meta.url)('typescript')

/**
 * Tests import src/ directly, and a few modules there are CommonJS (`.cts`: code the agent and the
 * collector share, e.g. src/coverage/report-rule.cts), which Vite does not transform. Compiled by
 * TypeScript to CommonJS, as tsc does for dist/, and run with a module object: the default export
 * is `module.exports`, as Node gives an ES module that imports a CommonJS one.
 */
const commonJsSources = {
  name: 'server-coverage:cts',
  transform(code: string, id: string) {
    if (!id.endsWith('.cts')) return undefined
    const { outputText } = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: id })
    const wrapped = [
      "import { createRequire as __scCreateRequire } from 'node:module'",
      'const module = { exports: {} }',
      'const exports = module.exports',
      `const require = __scCreateRequire(${JSON.stringify(id)})`,
      `const __dirname = ${JSON.stringify(id.slice(0, id.lastIndexOf('/')))}`,
      outputText,
      'export default module.exports',
    ].join('\n')
    return { code: wrapped, map: null }
  },
}

// The suite boots real clusters and real runners: on 2 cores, two test files at a time keeps it
// fast and steady (each e2e file runs its cases one after another).
export default defineConfig({
  plugins: [commonJsSources],
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/fixtures/**', '.e2e-tmp/**', 'compat/**', 'examples/**'],
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
