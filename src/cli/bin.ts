#!/usr/bin/env node
/** The `tsgiup` command: serves a TSGI app file. See docs/cli.md and {@link main}. */
import { main } from './runner.js'

await main()
