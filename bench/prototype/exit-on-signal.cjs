// For compare.mjs's V8 run: a stop signal becomes a normal exit, so V8 writes its coverage file.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.listenerCount(signal) > 1 || process.exit(143))
