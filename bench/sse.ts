/**
 * Many idle Server-Sent Events streams: 10,000 concurrent `sse()` responses with 1 s heartbeats
 * on the node server (the built package, `dist/`, from a copy taken when the run begins, as
 * bench/run.ts does), in its own process pinned to core 0; this process is the client, pinned
 * to core 1, with 10,000 raw TCP connections (node:net) each sending one
 * `GET /events` with `Accept: text/event-stream`. For every heartbeat it records how late it
 * came: the gap since the stream's previous heartbeat (or its head) less the heartbeat period,
 * since `sse()` sends a heartbeat after each period of idleness. It reports the server's RSS
 * (VmRSS in /proc/<pid>/status) once every stream is up and at the end, the server's memory
 * breakdown and event-loop delay, its CPU use, and the max and p99 lateness. Targets: RSS under
 * 300 MiB, every heartbeat within 100 ms.
 *
 * Usage: npm run bench:sse [-- --streams 10000 --seconds 30 --heartbeat 1000 --batch 250
 *        --server tsgi|raw --server-flags=--trace-gc] (flags for the server's node, whose stdout
 *        then carries them too: lines that are not its port or figures are passed to stderr)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { createInterface, type Interface } from 'node:readline'
import { parseArgs } from 'node:util'
import { pinned, snapshotBuild } from './load.js'
import { mib, rss } from './slow-client.js'

const MIB = 2 ** 20

// ---------------------------------------------------------------------------------------------
// The server process

/**
 * The server program, plain JavaScript run by `node --input-type=module -e` in the build copy,
 * so the process holds what a deployed server holds: node and the built package, no TypeScript
 * loader (tsx alone adds about 40 MiB of RSS). It serves `sse()` streams that only send
 * heartbeats, each ending when its client leaves (`--server raw`: raw node:http writing the same
 * heartbeat from one timer per response, as a reference), prints its port, and answers each
 * `stats` line on stdin with one JSON line of its own figures (`start` resets the event-loop
 * delay histogram).
 */
const SERVER_PROGRAM = `
import { createServer } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
const [kind, heartbeat] = [process.argv[1], Number(process.argv[2])]
const delay = monitorEventLoopDelay({ resolution: 10 })
// the histogram holds whole sampling intervals: the lag is what exceeds the resolution
const lag = (ns) => Math.max(0, ns / 1e6 - 10)
let port
if (kind === 'raw') {
  const server = createServer((req, res) => {
    res.writeHead(200, ['Content-Type', 'text/event-stream; charset=utf-8', 'Cache-Control', 'no-cache'])
    res.flushHeaders()
    const timer = setTimeout(function beat() { res.write(':\\n\\n'); timer.refresh() }, heartbeat)
    res.on('close', () => clearTimeout(timer))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = server.address().port
} else {
  const { sse } = await import('tsgi')
  const { serve } = await import('tsgi/server/node')
  const app = (env) =>
    sse(env, (stream) => new Promise((resolve) => stream.signal.addEventListener('abort', () => resolve())), { heartbeat })
  port = (await serve(app, { port: 0, host: '127.0.0.1', errors: process.stderr })).port
}
process.stdout.write(port + '\\n')
const input = createInterface({ input: process.stdin })
input.on('line', (line) => {
  if (line === 'start') {
    delay.reset()
    delay.enable()
    return
  }
  const m = process.memoryUsage()
  const stats = { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
    rss: m.rss, delayP99: lag(delay.percentile(99)), delayMax: lag(delay.max) }
  process.stdout.write(JSON.stringify(stats) + '\\n')
})
input.on('close', () => process.exit(0))
`

// ---------------------------------------------------------------------------------------------
// The client

/** The server process, its stdout lines, and how to ask it for its figures. */
interface ServerProcess {
  readonly child: ChildProcess
  readonly port: number
  ask(command: string): Promise<ServerStats>
  tell(command: string): void
}

interface ServerStats {
  readonly heapUsed: number
  readonly heapTotal: number
  readonly external: number
  readonly arrayBuffers: number
  readonly rss: number
  readonly delayP99: number
  readonly delayMax: number
}

/** The server kinds: tsgi's `sse()` on `serve()`, or raw node:http as a reference. */
type ServerKind = 'tsgi' | 'raw'

async function startSseServer(
  dir: string,
  kind: ServerKind,
  heartbeat: number,
  flags: readonly string[],
): Promise<ServerProcess> {
  const node = [
    process.execPath,
    ...flags,
    '--input-type=module',
    '-e',
    SERVER_PROGRAM,
    kind,
    String(heartbeat),
  ]
  const [cmd, ...args] = pinned ? ['taskset', '-c', '0', ...node] : node
  const child = spawn(cmd!, args, { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] })
  const lines: Interface = createInterface({ input: child.stdout! })
  const waiting: ((line: string) => void)[] = []
  const early = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}`))),
  )
  early.catch(() => {})
  lines.on('line', (line) => {
    if (/^(\d+|\{.*\})$/.test(line)) waiting.shift()?.(line)
    else process.stderr.write(`server: ${line}\n`)
  })
  const nextLine = () => Promise.race([new Promise<string>((resolve) => waiting.push(resolve)), early])
  const port = Number(await nextLine())
  return {
    child,
    port,
    tell: (command) => child.stdin!.write(`${command}\n`),
    ask: async (command) => {
      const answer = nextLine()
      child.stdin!.write(`${command}\n`)
      return JSON.parse(await answer) as ServerStats
    },
  }
}

/** CPU seconds (user + system) process `pid` has used. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux)
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/**
 * Milliseconds the main thread of `pid` has spent runnable but waiting for a CPU (the second
 * field of /proc/<pid>/schedstat): time other processes on its core took from it.
 */
function runQueueWait(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ')
  return Number(fields[1] ?? 0) / 1e6
}

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM). */
function statusBytes(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024
}

const HEARTBEAT = ':\n\n'
const REQUEST = 'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n'

/** Heartbeat lateness in milliseconds, kept as a list (a few hundred thousand numbers). */
class Lateness {
  readonly all: number[] = []
  /** Only heartbeats that came once every stream was up. */
  readonly steady: number[] = []
  record(ms: number, steady: boolean): void {
    this.all.push(ms)
    if (steady) this.steady.push(ms)
  }
}

/** The largest of `xs` (NaN when empty), without spreading a few hundred thousand arguments. */
function maxOf(xs: readonly number[]): number {
  let max = Number.NaN
  for (const x of xs) if (!(x <= max)) max = x
  return max
}

function summary(xs: number[]): string {
  if (xs.length === 0) return 'none'
  const sorted = Float64Array.from(xs).sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return `${xs.length} heartbeats: p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms (min ${sorted[0]!.toFixed(1)} ms)`
}

/** One stream: reads its head, then times each heartbeat. */
function openStream(
  port: number,
  period: number,
  lateness: Lateness,
  phase: { steady: boolean },
  onUp: () => void,
  onFail: (err: Error) => void,
): Socket {
  const socket = connect(port, '127.0.0.1')
  let head = ''
  let up = false
  let last = 0
  let tail = ''
  socket.setEncoding('latin1')
  socket.on('connect', () => socket.write(REQUEST))
  socket.on('data', (text: string) => {
    const now = performance.now()
    if (!up) {
      head += text
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      if (!head.startsWith('HTTP/1.1 200 ')) {
        onFail(new Error(`answered ${head.split('\r\n', 1)[0]}`))
        socket.destroy()
        return
      }
      up = true
      last = now
      text = head.slice(end + 4)
      head = ''
      onUp()
    }
    // heartbeats arrive as chunks `3\r\n:\n\n\r\n`; the last bytes are kept in case one is split
    const seen = tail + text
    let at = seen.indexOf(HEARTBEAT)
    while (at >= 0) {
      lateness.record(now - last - period, phase.steady)
      last = now
      at = seen.indexOf(HEARTBEAT, at + HEARTBEAT.length)
    }
    tail = seen.slice(-2)
  })
  socket.on('error', onFail)
  return socket
}

async function runClient(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      streams: { type: 'string', default: '10000' },
      seconds: { type: 'string', default: '30' },
      heartbeat: { type: 'string', default: '1000' },
      batch: { type: 'string', default: '250' },
      server: { type: 'string', default: 'tsgi' },
      'server-flags': { type: 'string', default: '' },
    },
  })
  const flags = values['server-flags'].split(' ').filter((f) => f !== '')
  const kind = values.server as ServerKind
  if (kind !== 'tsgi' && kind !== 'raw')
    throw new TypeError(`bench: --server must be tsgi or raw, got ${kind}`)
  const streams = Number(values.streams)
  const seconds = Number(values.seconds)
  const period = Number(values.heartbeat)
  const batch = Number(values.batch)
  if (pinned) execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' })

  const build = await snapshotBuild()
  const server = await startSseServer(build.dir, kind, period, flags)
  const pid = server.child.pid!
  const rssIdle = rss(pid)
  const lateness = new Lateness()
  const phase = { steady: false }
  const sockets: Socket[] = []
  let upCount = 0
  let failures = 0
  let firstFailure: Error | undefined
  const began = performance.now()
  try {
    // Connect in batches: each waits for its streams' heads, so the listen backlog never overflows.
    for (let opened = 0; opened < streams; ) {
      const n = Math.min(batch, streams - opened)
      await new Promise<void>((resolve) => {
        let left = n
        const done = () => {
          if (--left === 0) resolve()
        }
        for (let i = 0; i < n; i++) {
          sockets.push(
            openStream(
              server.port,
              period,
              lateness,
              phase,
              () => {
                upCount++
                done()
              },
              (err) => {
                failures++
                firstFailure ??= err
                done()
              },
            ),
          )
        }
      })
      opened += n
    }
    const rampSeconds = (performance.now() - began) / 1000
    if (upCount !== streams) throw new Error(`${streams - upCount} streams failed: ${firstFailure?.message}`)
    phase.steady = true
    server.tell('start')
    const cpuStart = cpuSeconds(pid)
    const waitStart = runQueueWait(pid)
    const rssUp = rss(pid)
    const statsUp = await server.ask('stats')
    process.stderr.write(
      `sse bench: ${streams} streams up in ${rampSeconds.toFixed(1)} s; server RSS ${mib(rssUp)} MiB; running ${seconds} s\n`,
    )
    const steadyBegan = performance.now()
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
    const steadySeconds = (performance.now() - steadyBegan) / 1000
    const cpu = (cpuSeconds(pid) - cpuStart) / steadySeconds
    const waited = runQueueWait(pid) - waitStart
    const rssEnd = rss(pid)
    const hwm = statusBytes(pid, 'VmHWM')
    const statsEnd = await server.ask('stats')
    const allLate = maxOf(lateness.all)
    const steadyLate = maxOf(lateness.steady)
    const heap = (s: ServerStats) =>
      `heap ${mib(s.heapUsed)}/${mib(s.heapTotal)} MiB, external ${mib(s.external)} MiB (array buffers ${mib(s.arrayBuffers)} MiB)`
    const expected = Math.floor((seconds * 1000) / period) * streams
    const lines = [
      `${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, node ${process.version}; server ${pinned ? 'on core 0, client on core 1 (taskset)' : 'not pinned'}`,
      `${kind === 'tsgi' ? 'tsgi sse() on serve()' : 'raw node:http'}: ${streams} SSE streams, heartbeat every ${period} ms of idleness, ${seconds} s after all were up (${rampSeconds.toFixed(1)} s to open them, ${failures} failed)`,
      '',
      `server RSS: ${mib(rssIdle)} MiB idle, ${mib(rssUp)} MiB with all streams up, ${mib(rssEnd)} MiB after ${seconds} s (peak ${mib(hwm)} MiB); ${((rssUp - rssIdle) / streams / 1024).toFixed(1)} KiB per stream`,
      `server memory up: ${heap(statsUp)}`,
      `server memory end: ${heap(statsEnd)}`,
      `server CPU while idle streams beat: ${(cpu * 100).toFixed(1)} % of a core; event-loop lag p99 ${statsEnd.delayP99.toFixed(1)} ms, max ${statsEnd.delayMax.toFixed(1)} ms`,
      `server main thread waited ${waited.toFixed(0)} ms on the run queue in those ${steadySeconds.toFixed(0)} s (CPU other processes on core ${pinned ? 0 : 'any'} took from it; ${loadavg()[0]!.toFixed(2)} load average at the end)`,
      `lateness, steady state: ${summary(lateness.steady)} (about ${expected} expected)`,
      `lateness, ramp-up included: ${summary(lateness.all)}`,
      '',
      `target RSS < 300 MiB: ${mib(Math.max(rssUp, rssEnd))} MiB ${Math.max(rssUp, rssEnd) < 300 * MIB ? 'met' : 'MISSED'}`,
      `target every heartbeat within 100 ms (steady state): max ${steadyLate.toFixed(1)} ms ${steadyLate <= 100 ? 'met' : 'MISSED'}`,
      `(including the ramp-up: max ${allLate.toFixed(1)} ms ${allLate <= 100 ? 'met' : 'missed'})`,
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
  } finally {
    for (const socket of sockets) socket.destroy()
    const exited = new Promise((resolve) => server.child.once('exit', resolve))
    server.child.stdin!.end()
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
    await build.remove()
  }
}

await runClient()
