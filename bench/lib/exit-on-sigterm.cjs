// Preloaded into the bare server of the teardown floor row (bench/suites/teardown.js): every process
// leaves through process.exit on SIGTERM, as a process under our agent does (a JavaScript exit:
// exit listeners, isolate teardown), but writes no coverage. The default SIGTERM action kills a
// process without running any JavaScript, which is not what a server under coverage can do.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(143))
