#!/usr/bin/env bash
# The Jest 29 job: the Jest e2e suite drives Jest 29.7 (pinned in compat/jest29/package-lock.json)
# on the fixture projects. Jest 30 is the repository's own and runs with the main e2e suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d compat/jest29/node_modules/jest ]; then
  echo "test:jest29: installing Jest 29 into compat/jest29 (npm ci)…"
  npm ci --prefix compat/jest29 --no-audit --no-fund
fi
export SC_JEST_HOME="$PWD/compat/jest29"
echo "test:jest29: Jest e2e suite on Jest $(node -p "require('./compat/jest29/node_modules/jest/package.json').version")"
npx vitest run test/e2e/jest-*.test.ts
