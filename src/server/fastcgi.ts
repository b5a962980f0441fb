/**
 * The FastCGI server for TSGI applications (`tsgi/server/fastcgi`): the responder role of
 * FastCGI 1.0 behind nginx, Apache httpd or lighttpd, on a unix socket, a TCP port, or a
 * listening socket the web server hands over (`fd: 0`, as spawn-fcgi and mod_fcgid do).
 *
 * - Several requests are multiplexed on one connection; `FCGI_KEEP_CONN` keeps it open after a
 *   request, and without it the connection closes after the response.
 * - `FCGI_GET_VALUES` is answered with the limits this server enforces (`FCGI_MAX_CONNS`,
 *   `FCGI_MAX_REQS`, `FCGI_MPXS_CONNS` 1); a request over `maxRequests` is refused with
 *   `FCGI_OVERLOADED`, another role with `FCGI_UNKNOWN_ROLE`, an unknown record type is
 *   answered `FCGI_UNKNOWN_TYPE`.
 * - `FCGI_ABORT_REQUEST` aborts `tsgix.signal` ('client-disconnected'); stdin reaches
 *   `tsgi.input` as it arrives, with backpressure (the connection stops being read while a
 *   request's unread input passes 64 KiB); stdout goes out in records of at most 65,535 bytes,
 *   as it is written.
 * - A malformed record closes its connection only. A response cut off (its app failed after
 *   the head) ends its connection with a record of FastCGI version 0, which the front end
 *   refuses, so that the client cannot take the response for complete.
 *
 * @example
 * const server = await serve(app, { path: '/run/app.sock' })
 * process.once('SIGTERM', () => void server.close())
 */
import { createServer, type Server, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import { checkOptions, optionBoolean, optionFunction, optionNumber } from '../options.js'
import type { App, ErrorStream, Logger } from '../types.js'
import { cgiEnv } from './cgi-env.js'
import {
  ABORT_REQUEST,
  BEGIN_REQUEST,
  DATA,
  decodePairs,
  encodePairs,
  endRequest,
  GET_VALUES,
  GET_VALUES_RESULT,
  KEEP_CONN,
  OVERLOADED,
  PARAMS,
  RESPONDER,
  RecordParser,
  record,
  recordHeader,
  STDIN,
  STDOUT,
  UNKNOWN_ROLE,
  unknownType,
} from './fastcgi-records.js'
import { type FastCgiLink, FastCgiTransport } from './fastcgi-transport.js'
import {
  gracefulClose,
  LISTEN_KEYS,
  type Listening,
  type ListenOptions,
  readListen,
  startAndListen,
} from './listen.js'
import type { EnvConfig } from './node-env.js'
import { Exchange, type PipelineContext, pipelineContext } from './pipeline.js'

export { ResponseAbortedError } from './pipeline.js'

/** Options of {@link serve}. */
export interface FastCgiServeOptions extends ListenOptions {
  /** Where `tsgi.errors` writes. @default process.stderr */
  readonly errors?: ErrorStream
  /** Given to applications as `tsgix.logger`. */
  readonly logger?: Logger
  /** The value of `tsgi.multiprocess`. @default false */
  readonly multiprocess?: boolean
  /** Milliseconds an application has to complete a response; then `tsgix.signal` aborts with 'timeout'. 0 for none. @default 0 */
  readonly requestTimeout?: number
  /** Connections served at once (`FCGI_MAX_CONNS`); more are refused. @default 1024 */
  readonly maxConnections?: number
  /** Requests in progress at once over all connections (`FCGI_MAX_REQS`); more are refused with `FCGI_OVERLOADED`. @default 4096 */
  readonly maxRequests?: number
}

/** A listening FastCGI server; `close()` lets requests in flight finish within the grace. */
export interface FastCgiServer extends Listening<Server> {}

const KEYS = [
  ...LISTEN_KEYS,
  'errors',
  'logger',
  'multiprocess',
  'requestTimeout',
  'maxConnections',
  'maxRequests',
] as const

/** Unread stdin of one request above which the connection stops being read. */
const INPUT_MARK = 64 * 1024

interface FastCgiContext extends PipelineContext {
  readonly env: EnvConfig
  readonly maxConnections: number
  readonly maxRequests: number
  /** Requests in progress over all connections. */
  active: number
  readonly connections: Set<Connection>
}

function ignore(): void {}

/**
 * What a cut connection ends with, after what was written: a record header of FastCGI version
 * 0, which front ends refuse as malformed, so the response cannot look complete. A plain close
 * is not enough: nginx takes it for the end of the response (a chunked body gets its last
 * chunk, a Content-Length one leaves its client waiting), and a unix socket has no reset.
 */
function brokenRecord(requestId: number): Buffer {
  const header = recordHeader(STDOUT, requestId, 0)
  header[0] = 0
  return header
}

function uncorkConnection(connection: Connection): void {
  connection.uncork()
}

/** One request of a connection, from FCGI_BEGIN_REQUEST to its end. */
class Request {
  readonly transport: FastCgiTransport
  private params: Buffer[] | undefined = []
  /** The request body as the app reads it. */
  readonly input: Readable
  exchange: Exchange | undefined

  constructor(
    readonly connection: Connection,
    readonly id: number,
    keepConn: boolean,
  ) {
    this.transport = new FastCgiTransport(connection, id, keepConn)
    this.input = new Readable({ highWaterMark: INPUT_MARK, read: () => connection.resumeFor(this) })
    this.input.on('error', ignore)
  }

  /** A FCGI_PARAMS record: the params end with an empty one, and the app then runs. */
  onParams(content: Buffer): string | undefined {
    const params = this.params
    if (params === undefined) return undefined
    if (content.length > 0) {
      // a view: the read it lies in is never reused, and the params are decoded at their end
      params.push(content)
      return undefined
    }
    this.params = undefined
    const vars = decodePairs(params.length === 1 ? params[0]! : Buffer.concat(params))
    if (typeof vars === 'string') return vars
    const ctx = this.connection.ctx
    const ex = new Exchange(ctx, this.transport)
    this.exchange = ex
    const env = cgiEnv(vars, this.input, ctx.env, ex, false)
    if (env === undefined) ex.plain(400)
    else ex.run(env)
    return undefined
  }

  /** A FCGI_STDIN record: the body's next bytes, or its end (empty). */
  onStdin(content: Buffer): void {
    const transport = this.transport
    if (transport.inputDone) return
    if (content.length === 0) {
      transport.inputDone = true
      this.input.push(null)
      return
    }
    // Buffer.from: the record is a view into the connection's read, which the app may keep
    if (!this.input.push(Buffer.from(content))) this.connection.pauseFor(this)
  }

  /** The response is over: input the app left unread is drained, not waited for. */
  finish(): void {
    this.connection.resumeFor(this)
    if (!this.transport.inputDone) this.input.resume()
  }

  /** FCGI_ABORT_REQUEST, or the connection is gone (before the params ended: no exchange to tell). */
  lost(): void {
    if (this.exchange !== undefined) this.transport.lost()
    this.input.destroy()
  }
}

/** One connection from the front end. */
class Connection implements FastCgiLink {
  private readonly requests = new Map<number, Request>()
  private readonly parser = new RecordParser((type, id, content) => this.onRecord(type, id, content))
  /** Requests whose unread input stopped the reading. */
  private readonly pausedBy = new Set<Request>()
  private readonly drainWaiters = new Set<FastCgiTransport>()
  /** Close once no request is in progress (no KEEP_CONN, or the server is closing). */
  private closing = false
  /** The socket is corked until this turn's writes are done. */
  private corked = false

  constructor(
    readonly ctx: FastCgiContext,
    readonly socket: Socket,
  ) {
    socket.on('data', (chunk: Buffer) => {
      const problem = this.parser.push(chunk)
      if (problem !== undefined) this.malformed(problem)
    })
    // a transport asks once and hears of every drain until its request is over (finished())
    socket.on('drain', () => {
      for (const transport of [...this.drainWaiters]) transport.drained()
    })
    socket.on('error', ignore)
    socket.on('close', () => {
      ctx.connections.delete(this)
      for (const request of this.requests.values()) {
        ctx.active--
        request.lost()
      }
      this.requests.clear()
    })
    if (ctx.closing) this.closing = true
  }

  /** True while no request is in progress. */
  get idle(): boolean {
    return this.requests.size === 0
  }

  private onRecord(type: number, id: number, content: Buffer): void {
    if (id === 0) {
      if (type === GET_VALUES) this.getValues(content)
      else this.socket.write(unknownType(type))
      return
    }
    const request = this.requests.get(id)
    switch (type) {
      case BEGIN_REQUEST:
        this.begin(id, content)
        return
      case PARAMS: {
        const problem = request?.onParams(content)
        if (problem !== undefined) this.malformed(problem)
        return
      }
      case STDIN:
        request?.onStdin(content)
        return
      case ABORT_REQUEST:
        if (request !== undefined) this.abort(request)
        return
      case DATA:
        // the filter role's second stream: a responder has none to read
        return
      default:
        this.socket.write(unknownType(type))
    }
  }

  private begin(id: number, content: Buffer): void {
    if (content.length < 8 || this.requests.has(id)) {
      this.malformed(content.length < 8 ? 'a short FCGI_BEGIN_REQUEST' : `request id ${id} began twice`)
      return
    }
    const role = content.readUInt16BE(0)
    const keepConn = (content[2]! & KEEP_CONN) !== 0
    if (!keepConn) this.closing = true
    const ctx = this.ctx
    if (role !== RESPONDER || ctx.active >= ctx.maxRequests) {
      this.socket.write(endRequest(id, 0, role !== RESPONDER ? UNKNOWN_ROLE : OVERLOADED))
      this.endIfDone()
      return
    }
    ctx.active++
    this.requests.set(id, new Request(this, id, keepConn))
  }

  private getValues(content: Buffer): void {
    const asked = decodePairs(content)
    if (typeof asked === 'string') {
      this.malformed(asked)
      return
    }
    const known: Record<string, string> = {
      FCGI_MAX_CONNS: String(this.ctx.maxConnections),
      FCGI_MAX_REQS: String(this.ctx.maxRequests),
      FCGI_MPXS_CONNS: '1',
    }
    const answer: [string, string][] = []
    for (const name in asked) if (known[name] !== undefined) answer.push([name, known[name]!])
    this.socket.write(record(GET_VALUES_RESULT, 0, encodePairs(answer)))
  }

  /** FCGI_ABORT_REQUEST: the app's signal aborts; the request ends with FCGI_END_REQUEST. */
  private abort(request: Request): void {
    const transport = request.transport
    request.lost()
    if (!transport.finished) {
      this.socket.write(endRequest(request.id, 1, 0))
      this.finished(request.id, !this.closing)
    }
  }

  /** A record that breaks the protocol: this connection (and only it) closes. */
  private malformed(problem: string): void {
    try {
      this.ctx.errors.write(`tsgi: FastCGI connection from the front end closed: ${problem}\n`)
    } catch {
      // nowhere to report
    }
    this.socket.destroy()
  }

  /** Writes `data`; what one turn writes (a head, its body, the end) leaves in one write. */
  write(data: Uint8Array): boolean {
    const socket = this.socket
    if (!this.corked) {
      this.corked = true
      socket.cork()
      process.nextTick(uncorkConnection, this)
    }
    return socket.write(data)
  }

  uncork(): void {
    this.corked = false
    this.socket.uncork()
  }

  watchDrain(transport: FastCgiTransport): void {
    this.drainWaiters.add(transport)
  }

  finished(requestId: number, keepConn: boolean): void {
    const request = this.requests.get(requestId)
    if (request === undefined) return
    this.requests.delete(requestId)
    this.ctx.active--
    this.drainWaiters.delete(request.transport)
    request.finish()
    if (!keepConn) this.closing = true
    this.endIfDone()
    if (this.ctx.closing) this.ctx.onEnded?.()
  }

  cut(requestId: number): void {
    // the front end cannot tell a broken response from a finished one but by the connection
    // breaking; with other requests on it, the response is ended with a failing app status
    if (this.requests.size <= 1) {
      this.socket.write(brokenRecord(requestId))
      this.socket.destroySoon()
      return
    }
    this.socket.write(endRequest(requestId, 1, 0))
    this.finished(requestId, true)
  }

  closeAfter(): void {
    this.closing = true
    this.endIfDone()
  }

  private endIfDone(): void {
    if (this.closing && this.requests.size === 0) this.socket.end()
  }

  pauseFor(request: Request): void {
    this.pausedBy.add(request)
    this.socket.pause()
  }

  resumeFor(request: Request): void {
    if (!this.pausedBy.delete(request) || this.pausedBy.size > 0) return
    this.socket.resume()
  }
}

/** Listens with `app` as a FastCGI responder and resolves once the server accepts connections. */
export function serve(app: App, options: FastCgiServeOptions = {}): Promise<FastCgiServer> {
  if (typeof app !== 'function') throw new TypeError('serve: app must be a function')
  const opts = checkOptions('serve', options, KEYS)
  const at = readListen('serve', opts)
  const errors = opts.errors
  if (errors !== undefined && (errors === null || typeof (errors as ErrorStream).write !== 'function')) {
    throw new TypeError(`serve: option 'errors' must be an object with a write method`)
  }
  const errorStream = (errors as ErrorStream | undefined) ?? process.stderr
  const ctx: FastCgiContext = {
    ...pipelineContext(app, errorStream, optionNumber('serve', opts, 'requestTimeout', { min: 0 }) ?? 0),
    env: {
      errors: errorStream,
      logger: optionFunction<Logger>('serve', opts, 'logger'),
      multiprocess: optionBoolean('serve', opts, 'multiprocess') ?? false,
    },
    maxConnections: optionNumber('serve', opts, 'maxConnections', { min: 1, integer: true }) ?? 1024,
    maxRequests: optionNumber('serve', opts, 'maxRequests', { min: 1, integer: true }) ?? 4096,
    active: 0,
    connections: new Set(),
  }
  const server = createServer((socket) => {
    socket.setNoDelay(true)
    ctx.connections.add(new Connection(ctx, socket))
  })
  server.maxConnections = ctx.maxConnections
  const closeIdle = () => {
    for (const connection of ctx.connections) if (connection.idle) connection.socket.end()
  }
  return startAndListen(ctx, server, at, 'fastcgi').then(({ url, port, lifespan }) => ({
    url,
    port,
    server,
    close: gracefulClose(ctx, at.grace, {
      lifespan,
      stop: () => {
        for (const connection of ctx.connections) connection.closeAfter()
        return new Promise<void>((resolve) => server.close(() => resolve()))
      },
      closeIdle,
      cutAll: () => {
        for (const connection of ctx.connections) connection.socket.destroy()
      },
    }),
  }))
}
