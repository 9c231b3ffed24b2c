#!/usr/bin/env node
// The CLI entry: sets the exit code and lets the process end by itself (no process.exit).
import { main } from '../dist/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
