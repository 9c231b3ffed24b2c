// monocart-coverage-reports on a raw V8 folder: the same files, an entry filter equivalent to the
// scope, istanbul `json` report (coverage-final.json). Usage: node monocart.js <rawDir> <cwd> <scope> <outDir>
import { CoverageReport } from 'monocart-coverage-reports'

const [rawDir, cwd, scope, outDir] = process.argv.slice(2)
const root = `file://${cwd}/`
const inScope = (url) => url.startsWith(root) && !url.includes('/node_modules/') && (scope === 'wide' || url === `${root}server.js` || url.startsWith(`${root}src/`))
const t0 = performance.now()
const report = new CoverageReport({
  outputDir: outDir,
  reports: ['json'],
  entryFilter: (entry) => inScope(entry.url),
  logging: 'error',
  cleanCache: true,
})
await report.addFromDir(rawDir)
const results = await report.generate()
console.log(JSON.stringify({ totalMs: performance.now() - t0, reportFiles: results?.files?.length }))
