/**
 * Static files: a 64 KiB file through tsgi's Static against Express's `express.static` (and raw
 * node:http piping it) in the same run; then a 1 GiB file to a slow client, with the server's
 * RSS sampled while it streams. See bench/load.ts for the method.
 *
 * Usage: npm run bench:static [-- --duration 10 --rounds 3 --connections 50 --engine wrk|autocannon]
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  type Case,
  describeRun,
  type Engine,
  hasWrk,
  pinLoadGenerator,
  type Running,
  runRounds,
  startServer,
  table,
} from './load.js'

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

const root = await mkdtemp(join(tmpdir(), 'tsgi-bench-static-'))
await writeFile(join(root, 'file-64k.bin'), randomBytes(64 * 1024))
const big = await open(join(root, 'file-1g.bin'), 'w')
await big.truncate(2 ** 30)
await big.close()
const env = { TSGI_BENCH_ROOT: root }

try {
  const start = (name: string) => () => startServer('bench/static-servers.ts', [name], env)
  const cases: Case[] = [
    { name: 'express', label: 'express.static', start: start('express'), path: '/file-64k.bin' },
    { name: 'tsgi', label: "tsgi enable('Static')", start: start('tsgi'), path: '/file-64k.bin' },
    { name: 'raw', label: 'raw node:http + fs.createReadStream', start: start('raw'), path: '/file-64k.bin' },
  ]
  const results = await runRounds(cases, opts)
  console.log(`\n${describeRun(opts)}\n64 KiB file\n`)
  console.log(table(cases, results, 'express', 'express.static'))

  const server = await start('tsgi')()
  try {
    const r = await slowClient(server, '/file-1g.bin', Number(values['slow-mib-per-s']))
    console.log(
      `\n1 GiB file to a client reading ${values['slow-mib-per-s']} MiB/s: ${r.bytes} bytes in ${r.seconds.toFixed(1)} s; ` +
        `server RSS ${mib(r.rssBefore)} MiB before, peak ${mib(r.rssPeak)} MiB (growth ${mib(r.rssPeak - r.rssBefore)} MiB)`,
    )
  } finally {
    server.child.kill()
  }
} finally {
  await rm(root, { recursive: true, force: true })
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1)
}

function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1]
  return Number(kb ?? 0) * 1024
}

/** Reads `path` at about `mibPerSecond`, pausing the socket between slices, sampling the server's RSS. */
async function slowClient(server: Running, path: string, mibPerSecond: number) {
  const pid = server.child.pid!
  const rssBefore = rss(pid)
  let rssPeak = rssBefore
  const started = performance.now()
  let bytes = 0
  await new Promise<void>((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1')
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`)
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rss(pid))
    }, 100)
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      // Hold the socket until the elapsed time catches up with the bytes read at the set rate.
      const due = (bytes / (mibPerSecond * 2 ** 20)) * 1000 - (performance.now() - started)
      if (due > 5) {
        socket.pause()
        setTimeout(() => socket.resume(), due)
      }
    })
    socket.on('error', reject)
    socket.on('close', () => {
      clearInterval(sampler)
      resolve()
    })
  })
  return { bytes, seconds: (performance.now() - started) / 1000, rssBefore, rssPeak }
}
