#!/usr/bin/env bash
# Usage: if-installed.sh <program> -- <command...>
# Runs the command when <program> is on PATH; otherwise says clearly that it skipped, and why.
set -euo pipefail
program="$1"; shift; [ "$1" = "--" ] && shift
if command -v "$program" >/dev/null 2>&1; then exec "$@"; fi
echo "SKIPPED $(basename "$PWD"): \`$program\` is not installed. Install it with:"
echo "  apt-get install -y uwsgi uwsgi-plugin-python3 python3-flask python3-coverage gunicorn"
