/**
 * A bare HTTP/2 connection for tests that need to do what a well-behaved client never does
 * (open a stream after the server's GOAWAY): frames written and read by hand over a raw h2c
 * socket. Header blocks are HPACK literals without indexing and without Huffman coding, which
 * every decoder accepts; only the frames these tests need are sent.
 */
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'

/** Frame types (RFC 9113 §6). */
export const DATA = 0
export const HEADERS = 1
export const RST_STREAM = 3
export const SETTINGS = 4
export const PING = 6
export const GOAWAY = 7
/** Flags. */
export const END_STREAM = 1
export const ACK = 1
export const END_HEADERS = 4

/** A received frame. */
export interface Frame {
  readonly type: number
  readonly flags: number
  readonly stream: number
  readonly payload: Buffer
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9)
  head.writeUIntBE(payload.length, 0, 3)
  head[3] = type
  head[4] = flags
  head.writeUInt32BE(stream, 5)
  return Buffer.concat([head, payload])
}

/** An HPACK string literal, raw (no Huffman), shorter than 127 bytes. */
function literal(value: string): Buffer {
  const bytes = Buffer.from(value, 'latin1')
  if (bytes.length >= 127) throw new RangeError('literal too long for this encoder')
  return Buffer.concat([Buffer.from([bytes.length]), bytes])
}

/** A GET's header block: `:method GET`, `:scheme http` (static table), `:path` and `:authority` as literals. */
function getBlock(path: string, authority: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x82, 0x86]),
    Buffer.from([0x04]), // literal without indexing, name = static entry 4 (:path)
    literal(path),
    Buffer.from([0x01]), // literal without indexing, name = static entry 1 (:authority)
    literal(authority),
  ])
}

/** A raw h2c connection: send frames, wait for frames. Acknowledges the server's SETTINGS. */
export class RawH2 {
  readonly frames: Frame[] = []
  private buffered = Buffer.alloc(0)
  private waiters: [(f: Frame) => boolean, (f: Frame) => void, (e: Error) => void][] = []
  private closedError: Error | undefined

  private constructor(
    readonly socket: Socket,
    private readonly authority: string,
  ) {
    socket.on('data', (d: Buffer) => this.onData(d))
    socket.on('error', () => {})
    socket.once('close', () => {
      this.closedError = new Error('connection closed')
      for (const [, , reject] of this.waiters.splice(0)) reject(this.closedError)
    })
  }

  /** Connects to 127.0.0.1:`port` and sends the preface and an empty SETTINGS. */
  static async open(port: number): Promise<RawH2> {
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    const conn = new RawH2(socket, `127.0.0.1:${port}`)
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]))
    return conn
  }

  /** Sends a GET for `path` on stream `id` (odd, increasing), with END_STREAM. */
  get(id: number, path: string): void {
    this.socket.write(frame(HEADERS, END_HEADERS | END_STREAM, id, getBlock(path, this.authority)))
  }

  /** Sends a PING with `data` (8 bytes) and resolves with the server's ACK. */
  ping(data: string): Promise<Frame> {
    const payload = Buffer.from(data.padEnd(8).slice(0, 8), 'latin1')
    const ack = this.next((f) => f.type === PING && (f.flags & ACK) !== 0 && f.payload.equals(payload))
    this.socket.write(frame(PING, 0, 0, payload))
    return ack
  }

  /** The first frame (already received or to come) that `match` accepts. */
  next(match: (f: Frame) => boolean): Promise<Frame> {
    const seen = this.frames.find(match)
    if (seen) return Promise.resolve(seen)
    if (this.closedError) return Promise.reject(this.closedError)
    return new Promise((resolve, reject) => this.waiters.push([match, resolve, reject]))
  }

  /** The DATA received on stream `id` so far. */
  data(id: number): string {
    return Buffer.concat(
      this.frames.filter((f) => f.type === DATA && f.stream === id).map((f) => f.payload),
    ).toString()
  }

  /** Resolves when the server has closed the connection. */
  async closed(): Promise<void> {
    if (this.socket.destroyed) return
    await once(this.socket, 'close')
  }

  private onData(d: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, d])
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3)
      if (this.buffered.length < 9 + length) break
      const f: Frame = {
        type: this.buffered[3]!,
        flags: this.buffered[4]!,
        stream: this.buffered.readUInt32BE(5) & 0x7fffffff,
        payload: this.buffered.subarray(9, 9 + length),
      }
      this.buffered = this.buffered.subarray(9 + length)
      if (f.type === SETTINGS && (f.flags & ACK) === 0) this.socket.write(frame(SETTINGS, ACK, 0))
      this.frames.push(f)
      this.waiters = this.waiters.filter(([match, resolve]) => {
        if (!match(f)) return true
        resolve(f)
        return false
      })
    }
  }
}
