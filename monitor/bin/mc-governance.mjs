#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the package ships no build step
// for the monitor.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli.ts')
const status = await main(process.argv.slice(2))
// stdout and stderr writes are synchronous on Linux for files, pipes and
// terminals (Node.js process I/O docs), so exiting here loses no output.
// Exiting also ends a command that left a handle open, such as stdin after `watch`.
process.exit(status)
