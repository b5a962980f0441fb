/**
 * The limits the node server puts on its connections and request heads, the ones a reverse
 * proxy would ship with: how many connections are served at once, how many header fields a
 * head may hold, how long a head may take to arrive and how long a request body may stall
 * while the app waits for it. Also the refusals those limits and node's parser give.
 *
 * A refusal keeps the order of the wire: it goes out only after every response begun before it
 * on the connection, then the connection closes, and nothing pipelined behind it reaches the
 * app. A request refused from its head (431 for too many fields, 400 for a Transfer-Encoding
 * that cannot frame its body, 503 on a connection over the cap) is answered through node's own
 * response, which node queues in order; a request node cannot parse, or whose body timed out,
 * is answered on the socket once the responses before it are out.
 *
 * On the hot path a request costs three property reads here (its socket's mark, its header
 * count, its Transfer-Encoding); the body clock exists only while an app waits for a body.
 *
 * Written by hand: these sit on node:http's parser, response queue and connection tracking,
 * which no library wraps.
 */
import { IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { formatHttpDate } from '../http-date.js'
import { type OptionBag, optionNumber } from '../options.js'
import { statusText } from '../status.js'

/** The limits of one node server, resolved from its options. */
export interface ServerLimits {
  /** Milliseconds an idle keep-alive connection stays open. */
  readonly keepAliveTimeout: number
  /** Milliseconds from a connection's start, or a request's first byte, to the end of its head; 0 for none. */
  readonly headersTimeout: number
  /** Milliseconds a request body may send nothing while the app waits for it; 0 for none. */
  readonly bodyTimeout: number
  /** Connections served at once; 0 for no cap. */
  readonly maxConnections: number
  /** Header fields in a request head; 0 for no count (the head's size still bounds it). */
  readonly maxHeaders: number
  /** Largest request head in bytes; undefined for node's own (16 KiB unless node runs with `--max-http-header-size`). */
  readonly maxHeaderSize: number | undefined
}

/** The keys of {@link readLimits}. */
export const LIMIT_KEYS = [
  'keepAliveTimeout',
  'headersTimeout',
  'bodyTimeout',
  'maxConnections',
  'maxHeaders',
  'maxHeaderSize',
] as const

/** The largest delay a node timer takes (a larger one fires at once). */
const MAX_DELAY = 2 ** 31 - 1

/** Reads and checks the limit options of `component` (a TypeError naming it and the option). */
export function readLimits(component: string, opts: OptionBag): ServerLimits {
  const timeout = { min: 0, max: MAX_DELAY, integer: true }
  const count = { min: 0, integer: true }
  return {
    keepAliveTimeout: optionNumber(component, opts, 'keepAliveTimeout', timeout) ?? 5000,
    headersTimeout: optionNumber(component, opts, 'headersTimeout', timeout) ?? 60_000,
    bodyTimeout: optionNumber(component, opts, 'bodyTimeout', timeout) ?? 60_000,
    maxConnections: optionNumber(component, opts, 'maxConnections', count) ?? 0,
    maxHeaders: optionNumber(component, opts, 'maxHeaders', count) ?? 100,
    maxHeaderSize: optionNumber(component, opts, 'maxHeaderSize', { min: 1, integer: true }),
  }
}

/**
 * The node:http server options that carry `limits`. node checks headersTimeout only every
 * `connectionsCheckingInterval` (30 s by default, so a 2 s limit could fire 30 s late): the
 * interval here is a tenth of the limit, between 10 ms and 1 s. node's own requestTimeout (a
 * cap on head and body together, 300 s by default, that cuts a long upload however steadily it
 * flows) is off: bodyTimeout measures a stalled body instead, and the app's own deadline is the
 * pipeline's `requestTimeout`.
 */
export function nodeServerOptions(limits: ServerLimits): ServerOptions {
  const { headersTimeout, bodyTimeout, maxHeaderSize } = limits
  const options: ServerOptions = {
    keepAliveTimeout: limits.keepAliveTimeout,
    headersTimeout,
    requestTimeout: 0,
    connectionsCheckingInterval:
      headersTimeout === 0 ? 30_000 : Math.min(1000, Math.max(10, Math.floor(headersTimeout / 10))),
  }
  if (maxHeaderSize !== undefined) options.maxHeaderSize = maxHeaderSize
  if (bodyTimeout > 0) options.IncomingMessage = timedIncomingMessage(bodyTimeout)
  return options
}

/**
 * Puts `limits` on a node server made with {@link nodeServerOptions}: parse failures and
 * timeouts answered in turn, the connection cap. `secure` for an https server, whose
 * connections count once their TLS handshake is done.
 */
export function guardServer(server: Server, limits: ServerLimits, secure: boolean): void {
  // node keeps only the first 2000 header lines and drops the rest silently (a Cookie or an
  // Authorization pushed out by junk): maxHeaders refuses such a head instead.
  server.maxHeadersCount = 0
  server.on('clientError', onClientError)
  if (limits.maxConnections > 0) capConnections(server, secure, limits.maxConnections)
}

/**
 * A connection's standing, kept on its socket: absent while it is served; a status its next
 * request is to be answered with (503 over the connection cap); {@link REFUSING} once it is
 * being refused, when nothing more of it reaches the app.
 */
const STANDING = Symbol('tsgi.standing')
const TIMED_OUT = Symbol('tsgi.timedOut')

/** True when the server closes `socket` because a request on it timed out (not the client leaving). */
export function timedOut(socket: Duplex): boolean {
  return (socket as Guarded)[TIMED_OUT] === true
}
const REFUSING = 0
type Guarded = Duplex & { [STANDING]?: number; [TIMED_OUT]?: boolean }

/** Marks a request pipelined behind a refusal: it gets no answer, its connection closes. */
const UNANSWERED = -1

/**
 * The status `req` is refused with: 0 to let it on, {@link UNANSWERED} when its connection is
 * already being refused. A refused request marks its connection.
 */
function headRefusal(limits: ServerLimits, req: IncomingMessage): number {
  const socket = req.socket as Guarded
  const standing = socket[STANDING]
  let status: number
  if (standing !== undefined) status = standing === REFUSING ? UNANSWERED : standing
  else if (limits.maxHeaders > 0 && req.rawHeaders.length > 2 * limits.maxHeaders) status = 431
  else if (faultyFraming(req)) status = 400
  else return 0
  socket[STANDING] = REFUSING
  return status
}

/**
 * A Transfer-Encoding the body cannot be framed by. On HTTP/1.0 any (RFC 9112 §6.1: a peer of
 * that version reads the body otherwise, so the body and what follows it cannot be trusted;
 * node's parser reads it as chunked and goes on to the next request). On HTTP/1.1 one whose last
 * coding is not chunked (§6.3): node's parser refuses it too, but only after it has handed the
 * request over, so the app would run first. node has built `req.headers` by now (it reads Host
 * and Expect from it): the common request costs one property read here.
 */
function faultyFraming(req: IncomingMessage): boolean {
  const codings = req.headers['transfer-encoding']
  if (codings === undefined) return false
  if (req.httpVersionMinor === 0) return true
  return (
    codings
      .slice(codings.lastIndexOf(',') + 1)
      .trim()
      .toLowerCase() !== 'chunked'
  )
}

/**
 * Lets `req` on to the app unless a limit refuses it; a refused request is answered (in turn,
 * by node's response queue) with `Connection: close`.
 */
export function admitRequest(limits: ServerLimits, req: IncomingMessage, res: ServerResponse): boolean {
  const status = headRefusal(limits, req)
  if (status === 0) return true
  if (status !== UNANSWERED) {
    const text = statusText(status)
    res.shouldKeepAlive = false
    res.writeHead(status, text, ['Content-Type', TEXT, 'Content-Length', String(text.length)])
    res.end(text)
  }
  return false
}

/** {@link admitRequest} for a CONNECT request, whose socket node has handed over. */
export function admitConnect(limits: ServerLimits, req: IncomingMessage, socket: Duplex): boolean {
  const status = headRefusal(limits, req)
  if (status === 0) return true
  if (status === UNANSWERED || !socket.writable) socket.destroy()
  else endWith(socket, status, undefined, undefined)
  return false
}

const TEXT = 'text/plain; charset=utf-8'

/** A complete answer with `Connection: close`, as raw bytes. */
function rawAnswer(status: number): string {
  const text = statusText(status)
  return (
    `HTTP/1.1 ${status} ${text}\r\nDate: ${formatHttpDate(Date.now())}\r\nContent-Type: ${TEXT}\r\n` +
    `Content-Length: ${text.length}\r\nConnection: close\r\n\r\n${text}`
  )
}

/** The status for an error of node's parser or of its connection checks. */
function clientErrorStatus(code: string | undefined): number {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408
    default:
      return 400
  }
}

type ParserHolder = Duplex & { parser?: { incoming?: IncomingMessage | null } | null }

/**
 * node's 'clientError': a request it could not parse (400, 431, 413) or a head that took longer
 * than headersTimeout (408). node stops parsing the connection there. Requests before it may
 * still be answering: the refusal waits for them.
 */
function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET') {
    socket.destroy()
    return
  }
  const guarded = socket as Guarded
  // Already refused (node reports a parser error again for every later read): nothing to add.
  if (guarded[STANDING] === REFUSING) return
  guarded[STANDING] = REFUSING
  // The message node was reading when it failed, when that was a body (the head was complete).
  const last = (socket as ParserHolder).parser?.incoming
  refuseInTurn(socket, clientErrorStatus(err.code), last != null && !last.complete ? last : undefined, err)
}

type ResponseHolder = Duplex & { _httpMessage?: ServerResponse | null }

/**
 * Answers `status` on `socket` and closes it, once the responses before the refused request are
 * out. node gives a socket one response at a time (`_httpMessage`, the next one assigned as the
 * last finishes). `broken` is a request whose body failed: its own response gives way to the
 * refusal while its head is unsent; once its head is out the connection is cut instead. Its
 * reader fails when the answer is out (node can end a half-read request only by destroying its
 * connection), so behind a slow pipelined response it waits with the answer.
 */
function refuseInTurn(socket: Duplex, status: number, broken: IncomingMessage | undefined, err: Error): void {
  if (socket.destroyed) return
  if (status === 408) (socket as Guarded)[TIMED_OUT] = true
  const current = (socket as ResponseHolder)._httpMessage
  if (current != null && current.req !== broken) {
    current.once('close', () => refuseInTurn(socket, status, broken, err))
    return
  }
  // No response in progress: one to `broken` was already sent whole.
  const answered = current != null ? current.headersSent : broken !== undefined
  if (answered || !socket.writable) cut(socket, broken, err)
  else endWith(socket, status, broken, err)
}

/** How long a refused connection may stay open for the client to read its answer and close. */
const LINGER_MS = 5000

/**
 * Ends `socket` with the answer. The client is left time to read it and close (closing at once
 * could reset the connection over bytes it is still sending, and lose the answer); a failed
 * body's reader learns at once, when the answer is out.
 */
function endWith(
  socket: Duplex,
  status: number,
  broken: IncomingMessage | undefined,
  err: Error | undefined,
): void {
  socket.end(rawAnswer(status))
  setTimeout(cut, LINGER_MS, socket, undefined, undefined).unref()
  if (broken !== undefined) socket.once('finish', () => cut(socket, broken, err))
}

/** Closes the connection; the app's reading of a body still coming fails with `err`. */
function cut(socket: Duplex, broken: IncomingMessage | undefined, err: Error | undefined): void {
  if (broken !== undefined && !broken.destroyed) broken.destroy(err)
  socket.destroy()
}

/**
 * Caps the connections served at once. One over the cap is kept to its first request head,
 * which is answered 503 with `Connection: close`: a response sent before the client's
 * request could be lost to a reset, or read by the client as an answer to something else.
 */
function capConnections(server: Server, secure: boolean, max: number): void {
  let open = 0
  const release = (): void => {
    open--
  }
  server.on(secure ? 'secureConnection' : 'connection', (socket: Duplex) => {
    if (open >= max) {
      ;(socket as Guarded)[STANDING] = 503
      return
    }
    open++
    socket.once('close', release)
  })
}

const CLOCK = Symbol('tsgi.bodyClock')
const WAITING = Symbol('tsgi.bodyWaiting')

/** The error a read of a stalled request body fails with. */
function bodyTimeoutError(ms: number): Error {
  return Object.assign(new Error(`tsgi: the request body sent nothing for ${ms} ms`), {
    code: 'ERR_HTTP_REQUEST_TIMEOUT',
  })
}

/**
 * node's IncomingMessage with a body clock: it runs while the body stream wants data (`_read`
 * was called) and none came, so it measures the client, not the app. An app that does not read,
 * or reads slowly, fills the stream's buffer; node then stops reading the socket and asks for
 * nothing, so the clock is still. It starts on the first read of a body (a request without one
 * never makes it), is reset by each chunk, and goes at the body's end or the request's destroy.
 * When it fires the client gets 408 (after the responses before it), or the connection is cut
 * once the response head is out; the app's read fails either way.
 */
export function timedIncomingMessage(ms: number): typeof IncomingMessage {
  function onStall(req: TimedIncomingMessage): void {
    if (req[WAITING] !== true || req.complete || req.destroyed) return
    const socket = req.socket as Guarded
    if (socket[STANDING] === REFUSING) return
    socket[STANDING] = REFUSING
    refuseInTurn(socket, 408, req, bodyTimeoutError(ms))
  }

  class TimedIncomingMessage extends IncomingMessage {
    declare [CLOCK]: NodeJS.Timeout | undefined
    declare [WAITING]: boolean | undefined

    override _read(size: number): void {
      if (this[WAITING] !== true && !this.complete) {
        this[WAITING] = true
        const clock = this[CLOCK]
        if (clock === undefined) this[CLOCK] = setTimeout(onStall, ms, this).unref()
        else clock.refresh()
      }
      super._read(size)
    }

    override push(chunk: unknown, encoding?: BufferEncoding): boolean {
      const clock = this[CLOCK]
      if (clock !== undefined) {
        this[WAITING] = false
        if (chunk === null) {
          clearTimeout(clock)
          this[CLOCK] = undefined
        }
      }
      return super.push(chunk, encoding)
    }

    override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
      const clock = this[CLOCK]
      if (clock !== undefined) {
        clearTimeout(clock)
        this[CLOCK] = undefined
      }
      super._destroy(error, callback)
    }
  }
  return TimedIncomingMessage
}
