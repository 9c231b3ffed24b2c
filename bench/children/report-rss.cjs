// Preloaded into each collector child: at exit, prints its peak RSS (kB) on stderr as a tagged line.
process.on('exit', () => {
  process.stderr.write(`\nBENCH_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`)
})
