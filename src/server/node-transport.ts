/**
 * The node:http(s) transport of the response pipeline: one request's `ServerResponse`. Heads go
 * out in one `writeHead` (node frames the body: chunked on HTTP/1.1 when the length is unknown,
 * close-delimited on HTTP/1.0), a one-chunk body in one `end`, files by `pipe`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex, Readable, Writable } from 'node:stream'
import type { Chunk, Env, HeaderList } from '../types.js'
import { wireHeaders } from './framing.js'
import { buildEnv, type EnvConfig, type EnvTarget } from './node-env.js'
import { timedOut } from './node-limits.js'
import { Exchange, type PipelineContext } from './pipeline.js'
import {
  HEAD_BODYLESS,
  HEAD_HOLD,
  HEAD_OBS_TEXT,
  HEAD_PLAIN,
  type Transport,
  type TransportEvents,
} from './transport.js'

/** What every request of one node server (or listener) shares. */
export interface ServerContext extends PipelineContext {
  readonly env: EnvConfig
  /** Sockets handed to apps by CONNECT, destroyed when the shutdown grace is over. */
  readonly tunnels: Set<Duplex>
}

/** Runs one node request through the pipeline with `ctx.app`; `prepare` adds to its env first. */
export function handleRequest(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: EnvTarget,
  prepare?: (env: Env, ex: Exchange) => void,
): void {
  const ex = new Exchange(ctx, new NodeTransport(req, res))
  const env = buildEnv(req, ctx.env, target, ex, ex.earlyHints)
  if (env === undefined) {
    ex.plain(400)
    return
  }
  prepare?.(env, ex)
  ex.run(env)
}

const EMPTY = Buffer.alloc(0)
const TRANSPORT = Symbol('tsgi.transport')
type TransportHolder = ServerResponse & { [TRANSPORT]?: NodeTransport | undefined }

/** One listener shared by every response ('close' fires once): no closure per request. */
function onResponseClose(this: TransportHolder): void {
  const transport = this[TRANSPORT]
  this[TRANSPORT] = undefined
  transport?.onClose()
}

function uncork(res: Writable): void {
  if (res.writableCorked > 0) res.uncork()
}

/** The transport of one node request. */
export class NodeTransport implements Transport {
  private events!: TransportEvents
  /** The connection, kept: a destroyed request lets go of its socket. */
  readonly socket: Socket

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    this.socket = req.socket
  }

  get headSent(): boolean {
    return this.res.headersSent
  }

  get ended(): boolean {
    return this.res.writableEnded
  }

  get finished(): boolean {
    return this.res.writableFinished
  }

  get gone(): boolean {
    return this.socket.destroyed
  }

  get lostReason(): 'timeout' | undefined {
    return timedOut(this.socket) ? 'timeout' : undefined
  }

  attach(events: TransportEvents): void {
    this.events = events
  }

  /** From the head as it came (`req.headers` would be built just for this). */
  inputPending(env: Env): boolean {
    const length = env.CONTENT_LENGTH
    return (length !== undefined && length !== '0') || env.HTTP_TRANSFER_ENCODING !== undefined
  }

  watchClose(): void {
    const res = this.res as TransportHolder
    res[TRANSPORT] = this
    res.on('close', onResponseClose)
    if (res.socket === null) this.waitForSocket()
  }

  /**
   * A pipelined request queues behind the responses before it: its response has no socket yet,
   * and gets no 'close' at all if the connection dies first. The socket's 'close' ends it then.
   */
  private waitForSocket(): void {
    const res = this.res as TransportHolder
    const onSocketClose = () => onResponseClose.call(res)
    this.socket.once('close', onSocketClose)
    res.once('close', () => this.socket.off('close', onSocketClose))
  }

  /** The response closed: a finished one may leave a request body half read (spec 5.5). */
  onClose(): void {
    const req = this.req
    // node drains a body nobody touched; one the app began and left would stall the connection.
    if (this.res.writableFinished && !req.complete && (req.destroyed || req.readableFlowing !== true)) {
      this.socket.destroySoon()
    }
    this.events.closed()
  }

  /**
   * node sends a head together with a first string chunk, in that chunk's encoding (UTF-8): a
   * head holding obs-text is sent ahead on its own, as latin1, so each such character is one
   * octet whatever the body.
   */
  head(
    status: number,
    reason: string | undefined,
    headers: HeaderList,
    length: number | undefined,
    flags: number,
  ): string | undefined {
    const res = this.res
    const out =
      flags & HEAD_PLAIN
        ? length === undefined
          ? headers
          : [...headers, 'Content-Length', String(length)]
        : wireHeaders(headers, length)
    if (flags & HEAD_HOLD) {
      // Hold the head and the chunks that follow until this turn of the event loop is over:
      // a body that an async generator yields through microtasks (nextTick callbacks run
      // between them) then leaves in one write with its terminator; one that waits on I/O is
      // held for less than a turn.
      res.cork()
      setImmediate(uncork, res)
    }
    try {
      if (reason === undefined) res.writeHead(status, out)
      else res.writeHead(status, reason, out)
    } catch (err) {
      return `node refused the response head: ${(err as Error).message}`
    }
    if (flags & HEAD_OBS_TEXT && !(flags & HEAD_BODYLESS)) res.write(EMPTY)
    return undefined
  }

  flush(): void {
    this.res.flushHeaders()
  }

  write(chunk: Chunk): boolean {
    return this.res.write(chunk)
  }

  watchDrain(): void {
    this.res.on('drain', () => this.events.drained())
  }

  end(chunks?: readonly Chunk[]): void {
    const res = this.res
    const n = chunks === undefined ? 0 : chunks.length
    if (n === 0) res.end()
    else if (n === 1) res.end(chunks![0])
    else {
      for (let i = 0; i < n - 1; i++) res.write(chunks![i]!)
      res.end(chunks![n - 1])
    }
  }

  pipe(source: Readable): void {
    source.pipe(this.res)
  }

  /** Flushes what was written (the client should see the partial body), then cuts the connection. */
  destroy(): void {
    const socket = this.res.socket
    while (socket && socket.writableCorked > 0) socket.uncork()
    this.res.destroy()
  }

  closeAfter(): void {
    if (!this.res.headersSent) this.res.shouldKeepAlive = false
  }

  earlyHints(headers: HeaderList): void {
    if (this.req.httpVersion === '1.0') return
    const hints: Record<string, string | string[]> = {}
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase()
      const value = headers[i + 1]!
      const prev = hints[name]
      if (prev === undefined) hints[name] = value
      else if (Array.isArray(prev)) prev.push(value)
      else hints[name] = [prev, value]
    }
    try {
      this.res.writeEarlyHints(hints)
    } catch (err) {
      // node checks the syntax of Link values itself, in a message that names no field
      throw new TypeError(`tsgix.early_hints: invalid value for header "Link": ${(err as Error).message}`)
    }
  }
}
