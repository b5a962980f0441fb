/**
 * The WebSocket benchmark, two targets:
 *
 * - **echo**: messages/s of tsgi's WebSocket extension (`serve()` with an app whose handler is
 *   `for await (const m of socket) await socket.send(m)`) against a bare `ws` server
 *   (`new WebSocketServer(...)`, `on('message', (m, b) => ws.send(m, { binary: b }))`), in the
 *   same run. `--clients` connections each keep `--inflight` messages of `--size` bytes in
 *   flight for `--duration` seconds after `--warmup` seconds, counting echoes; the servers
 *   alternate over `--rounds` rounds (which goes first swaps each round), each started afresh,
 *   and the median of the per-round ratios is the figure (goal ≥ 0.9×).
 * - **memory**: a tsgi handler producing 1 MiB/s (16 KiB every 15.6 ms, awaiting `send()`) to a
 *   client reading 64 KiB/s, the server's RSS (VmRSS) sampled every second for
 *   `--memory-seconds`: start, end and peak, and the growth from the first third of the run to
 *   the last (goal: flat, under 4 MiB). Without backpressure the server would hold what the
 *   client has not read, about 0.94 MiB more every second.
 *
 * The load client is written by hand on raw sockets (handshake, pre-masked frames written in
 * batches, echoes counted by bytes), so that it costs far less per message than either server
 * and the server is the limit; each round reports the server's CPU use to show it. Method as
 * bench/run.ts: the servers load the built package (`dist/`, a copy taken when the run begins:
 * run `npm run build` first, as `npm run bench:websocket` does), each in its own process pinned
 * to core 1 with taskset (where present), this process (the load client) pinned to core 0.
 *
 * The driver, the server cases and the client share this file, as bench/session.ts does: with
 * `--serve <case>` it is one server, printing its port as its first line.
 *
 * Usage: npm run bench:websocket [-- --duration 5 --rounds 5 --warmup 1 --clients 50
 *        --inflight 16 --size 64 --kinds binary,text --memory-seconds 30 --targets echo,memory]
 */
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { connect, type Socket } from 'node:net'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import {
  median,
  pinLoadGenerator,
  pinned,
  type Running,
  snapshotBuild,
  startServer,
  stopServer,
} from './load.js'
import { mib, rss } from './slow-client.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    clients: { type: 'string', default: '50' },
    inflight: { type: 'string', default: '16' },
    size: { type: 'string', default: '64' },
    kinds: { type: 'string', default: 'binary,text' },
    'memory-seconds': { type: 'string', default: '30' },
    targets: { type: 'string', default: 'echo,memory' },
    serve: { type: 'string' },
  },
})

// ---------------------------------------------------------------------------------------------
// The servers (`--serve <case>`)

/** Bytes the memory case's producer sends per message, and how often (1 MiB/s). */
const PRODUCER_CHUNK = 16 * 1024
const PRODUCER_INTERVAL_MS = (PRODUCER_CHUNK / 2 ** 20) * 1000

const local = { port: 0, host: '127.0.0.1' } as const

const serverCases: Record<string, () => Promise<number>> = {
  /** The bare `ws` server: what the echo target is a ratio to. */
  async ws() {
    const { WebSocketServer } = await import('ws')
    const server = new WebSocketServer(local)
    server.on('connection', (ws) => {
      ws.on('message', (m, isBinary) => ws.send(m, { binary: isBinary }))
    })
    await new Promise<void>((resolve) => server.once('listening', resolve))
    return (server.address() as AddressInfo).port
  },
  /** tsgi's node server, the echo handler of the docs. */
  async tsgi() {
    const { serve } = await import('tsgi/server/node')
    const server = await serve((env) => {
      const ws = env['tsgix.websocket']
      if (!ws) return [426, ['Content-Type', 'text/plain', 'Content-Length', '15'], ['WebSocket only\n']]
      return ws.accept(async (socket) => {
        for await (const message of socket) await socket.send(message)
      })
    }, local)
    return server.port
  },
  /**
   * tsgi sending 16 KiB every 15.6 ms (1 MiB/s), awaiting each `send()`, until the peer goes;
   * prints `sent <bytes>` on stdout every second.
   */
  async 'tsgi-producer'() {
    const { serve } = await import('tsgi/server/node')
    let sent = 0
    setInterval(() => process.stdout.write(`sent ${sent}\n`), 1000).unref()
    const chunk = new Uint8Array(PRODUCER_CHUNK).fill(0x61)
    const server = await serve((env) => {
      const ws = env['tsgix.websocket']
      if (!ws) return [426, ['Content-Type', 'text/plain', 'Content-Length', '15'], ['WebSocket only\n']]
      return ws.accept(async (socket) => {
        const began = performance.now()
        for (let i = 1; !socket.signal.aborted; i++) {
          try {
            await socket.send(chunk)
          } catch {
            return
          }
          sent += chunk.length
          const wait = began + i * PRODUCER_INTERVAL_MS - performance.now()
          if (wait > 0) await sleep(wait)
        }
      })
    }, local)
    return server.port
  },
}

// ---------------------------------------------------------------------------------------------
// The client: raw sockets, the handshake by hand, pre-built frames

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** A frame header for a payload of `length` bytes (`mask` for client frames: the key follows). */
function frameHeader(opcode: number, length: number, mask: boolean): Buffer {
  const m = mask ? 0x80 : 0
  if (length < 126) return Buffer.from([0x80 | opcode, m | length])
  if (length < 65536) return Buffer.from([0x80 | opcode, m | 126, length >> 8, length & 0xff])
  throw new RangeError('bench: --size must be under 65536')
}

/** One client frame, masked with `key` (RFC 6455 §5.3). */
function clientFrame(opcode: number, payload: Buffer, key: Buffer): Buffer {
  const masked = Buffer.from(payload)
  for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i & 3]!
  return Buffer.concat([frameHeader(opcode, payload.length, true), key, masked])
}

/** Opens a WebSocket on a raw socket: resolves once the 101 is read, with any bytes that came after it. */
async function handshake(port: number): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  const key = randomBytes(16).toString('base64')
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64')
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  )
  return new Promise((resolve, reject) => {
    let seen = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk])
      const end = seen.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      socket.off('error', reject)
      socket.pause()
      const head = seen.subarray(0, end).toString('latin1')
      if (
        !head.startsWith('HTTP/1.1 101 ') ||
        /\r\nsec-websocket-accept: *(\S+)/i.exec(head)?.[1] !== accept
      ) {
        socket.destroy()
        reject(new Error(`bench: the handshake failed: ${head.split('\r\n')[0]}`))
        return
      }
      resolve({ socket, rest: seen.subarray(end + 4) })
    }
    socket.on('data', onData)
    socket.once('error', reject)
  })
}

/** Settings of one echo load. */
interface EchoLoad {
  readonly clients: number
  readonly inflight: number
  readonly size: number
  readonly kind: 'binary' | 'text'
  readonly warmup: number
  readonly duration: number
}

/** What one echo load measured. */
interface EchoResult {
  readonly messagesPerSecond: number
  /** The server process's CPU time over the measured window, as a share of one core. */
  readonly serverCpu: number
  readonly clientCpu: number
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
  } catch {
    return 100
  }
})()

/** CPU seconds (user + system) process `pid` has used. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}

/**
 * `load.clients` connections, each keeping `load.inflight` messages in flight: a connection
 * writes that many frames, then one more for every echo that comes back (in one write per
 * read). The first echo is checked byte for byte.
 */
async function echoLoad(server: Running, load: EchoLoad): Promise<EchoResult> {
  const opcode = load.kind === 'binary' ? 2 : 1
  const payload = Buffer.alloc(load.size, 'x')
  for (let i = 0; i < payload.length; i++) payload[i] = 0x61 + (i % 26)
  const key = randomBytes(4)
  const one = clientFrame(opcode, payload, key)
  const batch = Buffer.concat(Array.from({ length: load.inflight }, () => one))
  const expected = Buffer.concat([frameHeader(opcode, load.size, false), payload])
  const answer = expected.length

  let echoes = 0
  let running = true
  let first: Buffer | undefined
  const sockets: Socket[] = []
  const errors: Error[] = []
  for (let c = 0; c < load.clients; c++) {
    const { socket, rest } = await handshake(server.port)
    sockets.push(socket)
    let bytes = 0
    let done = 0
    const onData = (chunk: Buffer) => {
      if (first === undefined) first = Buffer.from(chunk.subarray(0, answer))
      bytes += chunk.length
      const now = Math.floor(bytes / answer)
      const fresh = now - done
      if (fresh === 0) return
      done = now
      echoes += fresh
      if (running) socket.write(fresh >= load.inflight ? batch : batch.subarray(0, fresh * one.length))
    }
    socket.on('data', onData)
    socket.on('error', (err) => errors.push(err))
    if (rest.length > 0) onData(rest)
    socket.resume()
  }
  for (const socket of sockets) socket.write(batch)

  await sleep(load.warmup * 1000)
  const pid = server.child.pid!
  const startEchoes = echoes
  const startCpu = cpuSeconds(pid)
  const startClient = process.cpuUsage()
  const began = performance.now()
  await sleep(load.duration * 1000)
  const seconds = (performance.now() - began) / 1000
  const counted = echoes - startEchoes
  const serverCpu = (cpuSeconds(pid) - startCpu) / seconds
  const client = process.cpuUsage(startClient)
  running = false
  for (const socket of sockets) socket.destroy()
  if (errors.length > 0)
    throw new Error(`bench: ${errors.length} socket errors, first: ${errors[0]!.message}`)
  if (first === undefined || !first.equals(expected)) {
    throw new Error(
      `bench: the first echo was ${first?.toString('hex') ?? 'missing'}, not ${expected.toString('hex')}`,
    )
  }
  return {
    messagesPerSecond: counted / seconds,
    serverCpu,
    clientCpu: (client.user + client.system) / 1e6 / seconds,
  }
}

/** What the memory run saw. */
interface MemoryRun {
  /** VmRSS once the connection was open, then every second. */
  readonly samples: readonly number[]
  readonly received: number
  /** What the producer reported having sent (accepted by `send()`). */
  readonly sent: number
  readonly seconds: number
}

/**
 * Opens one connection to the producer and reads it at `bytesPerSecond` (the socket paused
 * whenever it is ahead), sampling the server's RSS every second for `seconds`.
 */
async function memoryRun(server: Running, seconds: number, bytesPerSecond: number): Promise<MemoryRun> {
  let sent = 0
  const lines = createInterface({ input: server.child.stdout! })
  lines.on('line', (line) => {
    const m = /^sent (\d+)$/.exec(line)
    if (m) sent = Number(m[1])
  })
  server.child.stdout!.resume()
  const pid = server.child.pid!
  const { socket, rest } = await handshake(server.port)
  const samples = [rss(pid)]
  const began = performance.now()
  let received = rest.length
  let timer: NodeJS.Timeout | undefined
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length
    const due = (received / bytesPerSecond) * 1000 - (performance.now() - began)
    if (due > 5) {
      socket.pause()
      timer = setTimeout(() => socket.resume(), due)
    }
  })
  socket.on('error', () => {})
  socket.resume()
  for (let s = 1; s <= seconds; s++) {
    await sleep(began + s * 1000 - performance.now())
    samples.push(rss(pid))
  }
  const elapsed = (performance.now() - began) / 1000
  clearTimeout(timer)
  socket.destroy()
  lines.close()
  return { samples, received, sent, seconds: elapsed }
}

// ---------------------------------------------------------------------------------------------
// The driver

async function main(): Promise<void> {
  const duration = Number(values.duration)
  const rounds = Number(values.rounds)
  const warmup = Number(values.warmup)
  const clients = Number(values.clients)
  const inflight = Number(values.inflight)
  const size = Number(values.size)
  const memorySeconds = Number(values['memory-seconds'])
  const kinds = values.kinds.split(',')
  const targets = new Set(values.targets.split(','))
  for (const kind of kinds) {
    if (kind !== 'binary' && kind !== 'text')
      throw new TypeError(`bench: --kinds takes binary,text; got ${kind}`)
  }
  for (const target of targets) {
    if (target !== 'echo' && target !== 'memory')
      throw new TypeError(`bench: --targets takes echo,memory; got ${target}`)
  }

  const [loadAtStart] = loadavg()
  pinLoadGenerator()
  const build = await snapshotBuild()
  const script = join(build.dir, 'bench', 'websocket.ts')
  const start = (name: string) => startServer(script, ['--serve', name])
  const report: string[] = []
  const goals: string[] = []
  try {
    report.push(
      `${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
        `node ${process.version}; server ${pinned ? 'pinned to core 1, load client to core 0' : 'not pinned (no taskset)'}; ` +
        `machine load before the run (1-min average): ${loadAtStart?.toFixed(2)}`,
    )

    if (targets.has('echo')) {
      report.push(
        '',
        `### Echo: ${clients} clients x ${inflight} in flight, ${size}-byte messages; ` +
          `${duration} s x ${rounds} rounds after ${warmup} s warm-up`,
        '',
        '| messages | bare ws msg/s | tsgi msg/s | tsgi / ws (median of rounds) | server CPU ws / tsgi | rounds |',
        '|---|---:|---:|---:|---:|---|',
      )
      for (const kind of kinds as ('binary' | 'text')[]) {
        const load: EchoLoad = { clients, inflight, size, kind, warmup, duration }
        const rates = new Map<string, number[]>([
          ['ws', []],
          ['tsgi', []],
        ])
        const cpu = new Map<string, number[]>([
          ['ws', []],
          ['tsgi', []],
        ])
        const ratios: number[] = []
        for (let round = 0; round < rounds; round++) {
          const order = round % 2 === 0 ? ['ws', 'tsgi'] : ['tsgi', 'ws']
          const got = new Map<string, number>()
          for (const name of order) {
            const server = await start(name)
            try {
              const r = await echoLoad(server, load)
              got.set(name, r.messagesPerSecond)
              rates.get(name)!.push(r.messagesPerSecond)
              cpu.get(name)!.push(r.serverCpu)
              process.stderr.write(
                `echo ${kind} round ${round + 1}/${rounds} ${name}: ${Math.round(r.messagesPerSecond)} msg/s ` +
                  `(server CPU ${(r.serverCpu * 100).toFixed(0)}%, client CPU ${(r.clientCpu * 100).toFixed(0)}%)\n`,
              )
            } finally {
              await stopServer(server)
            }
          }
          ratios.push(got.get('tsgi')! / got.get('ws')!)
        }
        const ratio = median(ratios)
        const pct = (xs: number[]) => `${(median(xs) * 100).toFixed(0)}%`
        report.push(
          `| ${kind} | ${Math.round(median(rates.get('ws')!))} | ${Math.round(median(rates.get('tsgi')!))} | ` +
            `${ratio.toFixed(2)}× | ${pct(cpu.get('ws')!)} / ${pct(cpu.get('tsgi')!)} | ` +
            `${ratios.map((x) => x.toFixed(2)).join(', ')} |`,
        )
        goals.push(
          `| echo ${kind}, tsgi / bare ws | ${ratio.toFixed(2)}× | ≥ 0.90× | ${ratio >= 0.9 ? 'met' : 'missed'} |`,
        )
      }
    }

    if (targets.has('memory')) {
      const server = await start('tsgi-producer')
      let run: MemoryRun
      try {
        run = await memoryRun(server, memorySeconds, 64 * 1024)
      } finally {
        await stopServer(server)
      }
      const s = run.samples
      const third = Math.max(1, Math.floor(s.length / 3))
      const early = Math.max(...s.slice(0, third))
      const late = Math.max(...s.slice(-third))
      const growth = late - early
      report.push(
        '',
        `### Memory: a producer at 1 MiB/s (16 KiB messages, awaiting send()) to a client reading 64 KiB/s, ${memorySeconds} s`,
        '',
        '| read | sent (send() resolved) | RSS start | RSS end | RSS peak | peak of last third − peak of first third |',
        '|---:|---:|---:|---:|---:|---:|',
        `| ${mib(run.received)} MiB in ${run.seconds.toFixed(1)} s | ${mib(run.sent)} MiB | ${mib(s[0]!)} MiB | ` +
          `${mib(s[s.length - 1]!)} MiB | ${mib(Math.max(...s))} MiB | ${mib(growth)} MiB |`,
        '',
        `RSS every second (MiB): ${s.map((x) => mib(x)).join(' ')}`,
      )
      goals.push(
        `| RSS growth, slow reader (${memorySeconds} s) | ${mib(growth)} MiB | flat (< 4 MiB) | ${growth < 4 * 2 ** 20 ? 'met' : 'missed'} |`,
      )
    }
  } finally {
    await build.remove()
  }
  console.log(report.join('\n'))
  console.log(`\n### Targets\n\n| target | figure | goal | |\n|---|---:|---:|---|\n${goals.join('\n')}`)
}

if (values.serve !== undefined) {
  const startCase = serverCases[values.serve]
  if (!startCase) {
    process.stderr.write(
      `unknown case ${JSON.stringify(values.serve)}; known: ${Object.keys(serverCases).join(', ')}\n`,
    )
    process.exit(2)
  }
  process.stdout.write(`${await startCase()}\n`)
} else await main()
