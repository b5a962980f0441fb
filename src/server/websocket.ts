/**
 * The server side of the WebSocket extension (spec 3.5, `tsgix.websocket`), on the `ws`
 * package: which requests are handshakes, the `tsgix.websocket` object a transport puts in env
 * (with its origin check), and the connection an accepted handler runs, with backpressure both
 * ways, pings and an idle timeout. `ws` is an optional dependency, loaded when the first
 * handshake is accepted. How the protocol switches (the `101` of HTTP/1.1) is the transport's,
 * given as a {@link Switcher}; the exchange is told of the session's start and end through
 * {@link SessionOwner}.
 */
import type { IncomingMessage } from 'node:http'
import type { ServerHttp2Stream } from 'node:http2'
import type { Duplex } from 'node:stream'
import { checkOptions, optionBoolean, optionNumber } from '../options.js'
import type { AbortReason, Delayed, Env, HeaderList, Responder } from '../types.js'
import type {
  OriginPolicy,
  WebSocketAcceptOptions,
  WebSocketExtension,
  WebSocketHandler,
  WebSocketMessage,
} from '../websocket.js'
import {
  type Accepted,
  type AcceptSettings,
  Connection,
  refusedSend,
  type SessionOwner,
} from './websocket-connection.js'

export type { Accepted, AcceptSettings, Session, SessionOwner } from './websocket-connection.js'

/**
 * The parts of `ws` used here, declared here: `ws` is optional, so tsgi's published types must
 * not name its module (an app without `@types/ws` would fail to type-check).
 */
interface Ws {
  readonly readyState: number
  readonly bufferedAmount: number
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this
  on(event: 'ping' | 'pong', listener: () => void): this
  on(event: 'error', listener: (err: Error) => void): this
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this
  send(
    data: string | Uint8Array | ArrayBuffer,
    options: { binary: boolean },
    cb?: (err?: Error) => void,
  ): void
  close(code?: number, reason?: string): void
  ping(): void
  pause(): void
  resume(): void
  terminate(): void
  /** What `ws`'s own server calls after a 101: the socket the connection runs on. */
  setSocket(
    socket: Duplex,
    head: Buffer,
    options: { maxPayload: number; allowSynchronousEvents: boolean },
  ): void
}

interface WsServerOptions {
  readonly noServer: true
  readonly clientTracking: false
  readonly maxPayload: number
  readonly perMessageDeflate: boolean
  readonly handleProtocols: () => string | false
}

interface WsServer {
  on(event: 'headers', listener: (lines: string[]) => void): void
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, done: (ws: Ws) => void): void
}

interface WsModule {
  readonly WebSocketServer: new (options: WsServerOptions) => WsServer
  readonly WebSocket: new (address: null, protocols: undefined, options: object) => Ws
}

let wsModule: Promise<WsModule> | undefined

/** The `ws` package, imported on first use; rejects with a message saying how to install it. */
export function loadWs(): Promise<WsModule> {
  wsModule ??= (import('ws') as Promise<unknown> as Promise<WsModule>).catch((err: unknown) => {
    throw new Error(
      `the WebSocket extension needs the optional dependency 'ws' (npm install ws): ${(err as Error).message}`,
    )
  })
  return wsModule
}

const ACCEPT = 'tsgix.websocket.accept'
const ACCEPT_KEYS = [
  'protocol',
  'maxPayload',
  'compress',
  'allowedOrigins',
  'idleTimeout',
  'highWaterMark',
] as const

/** How a transport switches its connection to a WebSocket and starts the session on it. */
export interface Switcher {
  switchTo(owner: SessionOwner, accepted: Accepted, headers: HeaderList, env: Env): void
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** 16 random bytes in base64, as RFC 6455 §4.1 makes the key. */
const KEY = /^[+/0-9A-Za-z]{21}[AQgw]==$/

/** The subprotocols of `Sec-WebSocket-Protocol`, or undefined when the field is not a list of distinct tokens. */
function parseProtocols(field: unknown): string[] | undefined {
  if (field === undefined) return []
  if (typeof field !== 'string') return undefined
  const protocols: string[] = []
  for (const part of field.split(',')) {
    const name = part.trim()
    if (!TOKEN.test(name) || protocols.includes(name)) return undefined
    protocols.push(name)
  }
  return protocols
}

function hasToken(field: unknown, token: string): boolean {
  if (typeof field !== 'string') return false
  for (const part of field.split(',')) if (part.trim().toLowerCase() === token) return true
  return false
}

/**
 * The offered subprotocols when a stream is a valid HTTP/2 WebSocket handshake (RFC 8441 §4:
 * an extended CONNECT with `:protocol` websocket and version 13), else undefined.
 */
export function http2Handshake(env: Env, protocol: string | undefined): string[] | undefined {
  if (env.REQUEST_METHOD !== 'CONNECT' || protocol !== 'websocket') return undefined
  if (env.HTTP_SEC_WEBSOCKET_VERSION !== '13') return undefined
  return parseProtocols(env.HTTP_SEC_WEBSOCKET_PROTOCOL)
}

/**
 * The offered subprotocols when `env` is a valid HTTP/1.1 WebSocket handshake (RFC 6455 §4.2.1:
 * GET, `Upgrade: websocket`, `Connection: upgrade`, version 13, a well-formed key), else
 * undefined.
 */
export function http1Handshake(env: Env): string[] | undefined {
  if (env.REQUEST_METHOD !== 'GET' || env.SERVER_PROTOCOL !== 'HTTP/1.1') return undefined
  const upgrade = env.HTTP_UPGRADE
  if (typeof upgrade !== 'string' || upgrade.trim().toLowerCase() !== 'websocket') return undefined
  if (!hasToken(env.HTTP_CONNECTION, 'upgrade') || env.HTTP_SEC_WEBSOCKET_VERSION !== '13') return undefined
  const key = env.HTTP_SEC_WEBSOCKET_KEY
  if (typeof key !== 'string' || !KEY.test(key.trim())) return undefined
  return parseProtocols(env.HTTP_SEC_WEBSOCKET_PROTOCOL)
}

/** The host[:port] of `origin` as a Host field would carry it, lower case; undefined for an opaque origin. */
function originHost(origin: string): { host: string; hostname: string; port: string } | undefined {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return undefined
  }
  if (url.host === '') return undefined
  const secure = url.protocol === 'https:' || url.protocol === 'wss:'
  return {
    host: url.host,
    hostname: url.hostname,
    port: url.port === '' ? (secure ? '443' : '80') : url.port,
  }
}

/** True when the handshake's `Origin` may open the connection under `policy`. */
export function originAllowed(policy: OriginPolicy, env: Env): boolean {
  const origin = env.HTTP_ORIGIN
  if (typeof origin !== 'string' || policy === '*') return true
  if (policy === 'same-origin') {
    const from = originHost(origin)
    const host = env.HTTP_HOST
    if (from === undefined || typeof host !== 'string') return false
    const want = host.toLowerCase()
    if (from.host === want || `${from.host}:${from.port}` === want) return true
    // a proxy that sets Host to the bare name (nginx's `$host`) drops the port: names compare
    return !want.includes(':') && !want.startsWith('[') && from.hostname === want
  }
  if (policy instanceof RegExp) {
    policy.lastIndex = 0
    return policy.test(origin)
  }
  if (typeof policy === 'function') return policy(origin, env) === true
  const lower = origin.toLowerCase()
  return policy.some((allowed) => allowed.toLowerCase() === lower)
}

/** Accept options already read, by identity: an app passes the same object to every accept. */
const settingsCache = new WeakMap<object, AcceptSettings>()

function readPolicy(value: unknown): OriginPolicy {
  if (value === undefined) return 'same-origin'
  if (value === 'same-origin' || value === '*' || value instanceof RegExp || typeof value === 'function')
    return value as OriginPolicy
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [...value] as string[]
  throw new TypeError(
    `${ACCEPT}: option 'allowedOrigins' must be 'same-origin', '*', a list of origins, a RegExp or a function`,
  )
}

/** Reads and checks accept options: a TypeError naming the option for a bad one. */
export function readAccept(options: unknown): AcceptSettings {
  if (options !== null && typeof options === 'object') {
    const cached = settingsCache.get(options)
    if (cached !== undefined) return cached
  }
  const opts = checkOptions(ACCEPT, options, ACCEPT_KEYS)
  const protocol = opts.protocol
  if (protocol !== undefined && (typeof protocol !== 'string' || !TOKEN.test(protocol))) {
    throw new TypeError(`${ACCEPT}: option 'protocol' must be a subprotocol name (a token)`)
  }
  const settings: AcceptSettings = {
    protocol,
    maxPayload: optionNumber(ACCEPT, opts, 'maxPayload', { min: 1, integer: true }) ?? 16 * 1024 * 1024,
    compress: optionBoolean(ACCEPT, opts, 'compress') ?? false,
    allowedOrigins: readPolicy(opts.allowedOrigins),
    idleTimeout: optionNumber(ACCEPT, opts, 'idleTimeout', { min: 0 }) ?? 60_000,
    highWaterMark: optionNumber(ACCEPT, opts, 'highWaterMark', { min: 1, integer: true }) ?? 64 * 1024,
  }
  if (options !== null && typeof options === 'object') settingsCache.set(options, settings)
  return settings
}

const FORBIDDEN_BODY = 'Forbidden: this origin may not open a WebSocket here\n'

/** `env['tsgix.websocket']` of one handshake. */
export class Handshake implements WebSocketExtension {
  /** Set by the app's accept(), when it answers. */
  accepted: Accepted | undefined

  constructor(
    readonly protocols: readonly string[],
    private readonly env: Env,
    private readonly switcher: Switcher,
  ) {}

  accept(handler: WebSocketHandler, options?: WebSocketAcceptOptions): Delayed {
    if (typeof handler !== 'function') {
      throw new TypeError(`${ACCEPT}: the handler must be a function, got ${typeof handler}`)
    }
    const settings = readAccept(options)
    const protocol = settings.protocol
    if (protocol !== undefined && !this.protocols.includes(protocol)) {
      throw new TypeError(
        `${ACCEPT}: option 'protocol' is '${protocol}', which the client did not offer (offered: ${
          this.protocols.join(', ') || 'none'
        })`,
      )
    }
    return (respond: Responder) => {
      if (!originAllowed(settings.allowedOrigins, this.env)) {
        respond([
          403,
          ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(FORBIDDEN_BODY.length)],
          [FORBIDDEN_BODY],
        ])
        return
      }
      const accepted: Accepted = { handler, settings, writer: undefined }
      this.accepted = accepted
      accepted.writer = respond([101, []])
    }
  }

  /** The 101 went through the middleware: switches the connection with their `headers`. */
  switchTo(owner: SessionOwner, headers: HeaderList): void {
    this.switcher.switchTo(owner, this.accepted!, headers, this.env)
  }
}

/** Fields of a 101 that belong to the handshake itself, or frame a body: the server's, not the app's. */
const HANDSHAKE_FIELDS = new Set([
  'upgrade',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
])

/** Whether a 101 field belongs to the app (not to the handshake or the framing). */
export function isAppField(name: string): boolean {
  return !HANDSHAKE_FIELDS.has(name.toLowerCase())
}

/** The app's 101 fields as `Name: value` lines, without the handshake's own. */
export function handshakeLines(headers: HeaderList): string[] {
  const lines: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (!HANDSHAKE_FIELDS.has(name.toLowerCase())) lines.push(`${name}: ${headers[i + 1]!}`)
  }
  return lines
}

const OPEN = 1
const RESOLVED = Promise.resolve()

function messageSize(data: string | Uint8Array | ArrayBuffer): number {
  return typeof data === 'string' ? data.length * 3 : data.byteLength
}

/**
 * One accepted connection over a `ws` WebSocket: reading pauses while unread messages pass the
 * high-water mark, the sends of one turn leave in one write, and idle peers are pinged, then
 * dropped.
 */
export class WsConnection extends Connection {
  private queuedBytes = 0
  private paused = false
  private idleTimer: NodeJS.Timeout | undefined
  /** The peer sent something since the last idle check (the handshake does not count). */
  private heard = false
  private pinged = false
  /** The socket is corked until the current turn's sends are done. */
  private corked = false

  constructor(
    private readonly ws: Ws,
    /** The connection's socket (or HTTP/2 stream) the frames are written to. */
    private readonly raw: Duplex,
    env: Env,
    accepted: Accepted,
    owner: SessionOwner,
  ) {
    super(env, accepted, owner)
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary))
    ws.on('ping', () => this.onHeard())
    ws.on('pong', () => this.onHeard())
    ws.on('error', (err) => owner.sessionProblem(`WebSocket: ${err.message}`))
    // 1006 is never sent: it means the connection went without a close handshake
    ws.on('close', (code, reason) => this.onClose(code, reason.toString()))
    const idle = accepted.settings.idleTimeout
    if (idle > 0) {
      this.idleTimer = setInterval(onIdleCheck, Math.max(1, Math.floor(idle / 2)), this)
      this.idleTimer.unref()
    }
  }

  protected get open(): boolean {
    return this.ws.readyState === OPEN
  }

  protected closeSocket(code: number, reason: string | undefined): void {
    this.ws.close(code, reason)
  }

  protected closeAtEnd(code: 1000 | 1001 | 1011, reason: string): void {
    this.ws.close(code, reason)
  }

  /** Reading resumes, so the peer's close frame is read and the close handshake completes. */
  protected override dropped(): void {
    this.queuedBytes = 0
    if (this.paused) {
      this.paused = false
      this.ws.resume()
    }
  }

  protected override taken(message: WebSocketMessage): void {
    this.queuedBytes -= typeof message === 'string' ? Buffer.byteLength(message) : message.length
    if (this.paused && this.queuedBytes <= this.accepted.settings.highWaterMark / 2) {
      this.paused = false
      this.ws.resume()
    }
  }

  private onHeard(): void {
    this.heard = true
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.heard = true
    // after close() the peer's last messages have no reader
    if (this.ws.readyState !== OPEN) return
    if (!this.push(isBinary ? data : data.toString())) return
    this.queuedBytes += data.length
    if (!this.paused && this.queuedBytes > this.accepted.settings.highWaterMark) {
      this.paused = true
      this.ws.pause()
    }
  }

  /**
   * The idle check, every half of the timeout: a peer that sent nothing since the last check is
   * pinged, and one still silent at the next is gone. A peer is pinged after half to all of the
   * timeout's silence, and dropped after all of it to one and a half times it.
   */
  idleCheck(): void {
    if (this.heard) {
      this.heard = false
      this.pinged = false
    } else if (!this.pinged) {
      this.pinged = true
      this.ws.ping()
    } else this.terminate('timeout')
  }

  send(data: string | Uint8Array | ArrayBuffer): Promise<void> {
    const ws = this.ws
    if (ws.readyState !== OPEN) return refusedSend(ws.readyState)
    const binary = typeof data !== 'string'
    // Messages sent in one turn (a handler answering each of a burst) leave in one write.
    if (!this.corked) {
      this.corked = true
      this.raw.cork()
      process.nextTick(uncorkConnection, this)
    }
    if (ws.bufferedAmount + messageSize(data) <= this.accepted.settings.highWaterMark) {
      ws.send(data, { binary })
      return RESOLVED
    }
    // Over the mark: this message's own write tells when what is ahead of it has gone out.
    return new Promise((resolve, reject) => {
      ws.send(data, { binary }, (err) => {
        if (err) reject(err)
        else resolve()
      })
    })
  }

  /** Sends what this turn's `send()` calls wrote. */
  uncork(): void {
    this.corked = false
    this.raw.uncork()
  }

  terminate(reason: AbortReason): void {
    this.lost ??= reason
    this.ws.terminate()
  }

  private onClose(code: number, reason: string): void {
    if (this.idleTimer !== undefined) clearInterval(this.idleTimer)
    this.ended(code, reason, code !== 1006)
  }
}

function uncorkConnection(connection: WsConnection): void {
  connection.uncork()
}

function onIdleCheck(connection: WsConnection): void {
  connection.idleCheck()
}

/** Starts the session on a `ws` WebSocket the transport's switch produced. */
export function startSession(ws: Ws, raw: Duplex, env: Env, accepted: Accepted, owner: SessionOwner): void {
  const connection = new WsConnection(ws, raw, env, accepted, owner)
  owner.sessionStarted(connection)
  connection.run()
}

/**
 * The switch of an HTTP/1.1 connection: `ws` answers the handshake with its `101`, carrying the
 * app's fields, and takes the socket. A socket that closes before the session starts (the
 * client left while `ws` loaded, or `ws` refused the handshake) ends the exchange.
 */
export class Http1Switch implements Switcher {
  constructor(
    private readonly req: IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    private readonly detach: () => void,
  ) {}

  switchTo(owner: SessionOwner, accepted: Accepted, headers: HeaderList, env: Env): void {
    const socket = this.socket
    let started = false
    const onGone = () => {
      if (!started) owner.sessionEnded('client-disconnected')
    }
    loadWs().then(
      (ws) => {
        if (socket.destroyed) return onGone()
        this.detach()
        socket.once('close', onGone)
        const settings = accepted.settings
        const server = new ws.WebSocketServer({
          noServer: true,
          clientTracking: false,
          maxPayload: settings.maxPayload,
          perMessageDeflate: settings.compress,
          handleProtocols: () => settings.protocol ?? false,
        })
        const lines = handshakeLines(headers)
        if (lines.length > 0) server.on('headers', (out: string[]) => out.push(...lines))
        server.handleUpgrade(this.req, socket, this.head, (socketWs) => {
          started = true
          socket.off('close', onGone)
          startSession(socketWs, socket, env, accepted, owner)
        })
      },
      (err: unknown) => owner.switchFailed(err),
    )
  }
}

const NO_BYTES = Buffer.alloc(0)

/**
 * The switch of an HTTP/2 stream (RFC 8441): the app's fields go out on a `200`, and the
 * stream carries the WebSocket frames. `ws` has no handshake for it, so its socket is set
 * directly (`setSocket`, what its own server does after a 101); permessage-deflate is not
 * negotiated on HTTP/2.
 */
export class Http2Switch implements Switcher {
  constructor(private readonly stream: ServerHttp2Stream) {}

  switchTo(owner: SessionOwner, accepted: Accepted, headers: HeaderList, env: Env): void {
    const stream = this.stream
    loadWs().then(
      (ws) => {
        if (stream.destroyed) return owner.sessionEnded('client-disconnected')
        const head: Record<string, string | string[]> = { ':status': '200' }
        for (let i = 0; i < headers.length; i += 2) {
          const name = headers[i]!.toLowerCase()
          if (!isAppField(name)) continue
          const prev = head[name]
          const value = headers[i + 1]!
          head[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
        }
        const protocol = accepted.settings.protocol
        if (protocol !== undefined) head['sec-websocket-protocol'] = protocol
        try {
          stream.respond(head)
        } catch (err) {
          owner.switchFailed(err)
          return
        }
        const socket = new ws.WebSocket(null, undefined, {})
        socket.setSocket(stream, NO_BYTES, {
          maxPayload: accepted.settings.maxPayload,
          allowSynchronousEvents: true,
        })
        startSession(socket, stream, env, accepted, owner)
      },
      (err: unknown) => owner.switchFailed(err),
    )
  }
}
