/**
 * A client that reads a large response slowly, over HTTP/1.1 (a raw socket) or HTTP/2 (a node
 * http2 client stream), pausing between slices to hold a set rate, while the server process's
 * RSS (VmRSS in /proc/<pid>/status) is sampled every 100 ms. A server that streams with
 * backpressure keeps its memory flat; one that buffers grows with the file.
 */
import { readFileSync } from 'node:fs'
import { connect as connectH2 } from 'node:http2'
import { connect } from 'node:net'
import type { Readable } from 'node:stream'
import type { Protocol, Running } from './load.js'

/** Bytes as MiB, one decimal. */
export function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1)
}

/** The resident set size of process `pid`, in bytes. */
export function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1]
  return Number(kb ?? 0) * 1024
}

/** What one slow read saw. */
export interface SlowRead {
  /** Bytes received: the whole response on HTTP/1.1 (head included), the body on HTTP/2. */
  readonly bytes: number
  readonly seconds: number
  readonly rssBefore: number
  readonly rssPeak: number
}

/**
 * Holds `source` (paused) whenever it is ahead of `mibPerSecond`, counting what it delivers;
 * resolves on `done` ('close' for a socket, 'end' for a stream) with the byte count.
 */
function throttle(source: Readable, mibPerSecond: number, done: 'close' | 'end'): Promise<number> {
  const started = performance.now()
  let bytes = 0
  return new Promise((resolve, reject) => {
    source.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      // Hold the source until the elapsed time catches up with the bytes read at the set rate.
      const due = (bytes / (mibPerSecond * 2 ** 20)) * 1000 - (performance.now() - started)
      if (due > 5) {
        source.pause()
        setTimeout(() => source.resume(), due)
      }
    })
    source.on('error', reject)
    source.on(done, () => resolve(bytes))
  })
}

/** Reads `path` from `server` at about `mibPerSecond`, sampling the server's RSS as it goes. */
export async function slowRead(
  server: Running,
  path: string,
  mibPerSecond: number,
  protocol: Protocol = 'http/1.1',
): Promise<SlowRead> {
  const pid = server.child.pid!
  const rssBefore = rss(pid)
  let rssPeak = rssBefore
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rss(pid))
  }, 100)
  const started = performance.now()
  try {
    const bytes = protocol === 'h2c' ? await readH2(server.port, path, mibPerSecond) : await readH1()
    return { bytes, seconds: (performance.now() - started) / 1000, rssBefore, rssPeak }
  } finally {
    clearInterval(sampler)
  }

  function readH1(): Promise<number> {
    const socket = connect(server.port, '127.0.0.1')
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`)
    return throttle(socket, mibPerSecond, 'close')
  }
}

/** One h2c stream read slowly; rejects unless the answer is a 200. */
async function readH2(port: number, path: string, mibPerSecond: number): Promise<number> {
  const session = connectH2(`http://127.0.0.1:${port}`)
  try {
    const stream = session.request({ ':path': path })
    stream.end()
    const failed = new Promise<never>((_, reject) => session.once('error', reject))
    const head = await Promise.race([
      new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status'])))),
      failed,
    ])
    if (head !== 200) throw new Error(`HTTP/2 slow read of ${path}: status ${head}`)
    return await Promise.race([throttle(stream, mibPerSecond, 'end'), failed])
  } finally {
    session.close()
  }
}
