/**
 * Static files: a 64 KiB file through tsgi's Static against Express's `express.static` (and raw
 * node:http piping it) in the same run; then a 1 GiB file to a slow client, with the server's
 * RSS sampled while it streams. See bench/load.ts for the method.
 *
 * Usage: npm run bench:static [-- --duration 10 --rounds 3 --connections 50 --engine wrk|autocannon]
 */
import { rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import {
  type Case,
  describeRun,
  type Engine,
  hasWrk,
  pinLoadGenerator,
  runRounds,
  startServer,
  stopServer,
  table,
} from './load.js'
import { mib, slowRead } from './slow-client.js'
import { BIG_FILE, makeStaticRoot, SMALL_FILE } from './static-files.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    'slow-mib-per-s': { type: 'string', default: '64' },
    engine: { type: 'string', default: hasWrk() ? 'wrk' : 'autocannon' },
  },
})
// autocannon reads bodies in JavaScript and tops out near 80 MB/s here, below any of these
// servers; wrk (Debian's package) does not, so it is the default where installed.
const opts = {
  engine: values.engine as Engine,
  duration: Number(values.duration),
  rounds: Number(values.rounds),
  connections: Number(values.connections),
  pipelining: 1,
}

pinLoadGenerator()

const { root, small } = await makeStaticRoot()
const env = { TSGI_BENCH_ROOT: root }

try {
  const start = (name: string) => () => startServer('bench/static-servers.ts', [name], env)
  const file = { path: SMALL_FILE, expect: { status: 200, body: small } }
  const cases: Case[] = [
    { name: 'express', label: 'express.static', start: start('express'), ...file },
    { name: 'tsgi', label: "tsgi enable('Static')", start: start('tsgi'), ...file },
    { name: 'raw', label: 'raw node:http + fs.stat + fs.createReadStream', start: start('raw'), ...file },
  ]
  const results = await runRounds(cases, opts)
  console.log(`\n${describeRun(opts)}\n64 KiB file\n`)
  console.log(table(cases, results, [{ label: 'express.static', names: ['express'] }]))

  const server = await start('tsgi')()
  try {
    const r = await slowRead(server, BIG_FILE, Number(values['slow-mib-per-s']))
    console.log(
      `\n1 GiB file to a client reading ${values['slow-mib-per-s']} MiB/s: ${r.bytes} bytes in ${r.seconds.toFixed(1)} s; ` +
        `server RSS ${mib(r.rssBefore)} MiB before, peak ${mib(r.rssPeak)} MiB (growth ${mib(r.rssPeak - r.rssBefore)} MiB)`,
    )
  } finally {
    await stopServer(server)
  }
} finally {
  await rm(root, { recursive: true, force: true })
}
