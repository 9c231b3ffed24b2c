// Bundles the page's script (src/client/main.js and the module it shares with the server) into
// public/app.js with a source map, as a front-end build would.
import { build } from 'esbuild'

await build({
  entryPoints: ['src/client/main.js'],
  bundle: true,
  format: 'esm',
  sourcemap: true,
  outfile: 'public/app.js',
  logLevel: 'warning',
})
