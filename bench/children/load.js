// A bounded HTTP load in its own process, so the process that measures itself (live-memory.js)
// holds only what the collector holds, as in a real run where the tests' requests come from test
// workers. Usage: node load.js <http://127.0.0.1:port/path> <seconds> <connections>
import autocannon from 'autocannon'

const [url, seconds, connections] = process.argv.slice(2)
if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`refusing to load a non-loopback url: ${url}`)
const result = await autocannon({ url, duration: Number(seconds), connections: Number(connections) })
console.log(JSON.stringify({ requests: result.requests.total, errors: result.errors + result.non2xx, p50: result.latency.p50 }))
