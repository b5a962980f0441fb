/**
 * The HTTP/2 server for TSGI applications (`tsgi/server/http2`), on node:http2's core stream
 * API and the same response pipeline as every other server.
 *
 * With `tls` it speaks h2 and, by ALPN, HTTP/1.1 (`allowHTTP1`, default true) on one port, the
 * HTTP/1.1 requests taking the node server's own path; without `tls` it is cleartext h2c with
 * prior knowledge. `close()` sends GOAWAY on every session and lets open streams finish within
 * `shutdownTimeout`, then resets them (`tsgix.signal` aborts with 'server-shutdown').
 *
 * @example
 * const server = await serve(app, { port: 8443, tls: { key, cert } })
 * process.once('SIGTERM', () => void server.close())
 */

import type { IncomingMessage } from 'node:http'
import {
  constants,
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type SecureServerOptions,
  type ServerHttp2Stream,
} from 'node:http2'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import { optionBoolean, optionNumber } from '../options.js'
import type { App } from '../types.js'
import { buildHttp2Env, type Peer } from './http2-env.js'
import { Http2Transport } from './http2-transport.js'
import {
  checkTls,
  gracefulClose,
  LISTEN_KEYS,
  type Listening,
  type ListenOptions,
  readListen,
  startAndListen,
  type TlsOptions,
} from './listen.js'
import { listener, makeContext, type NodeListenerOptions } from './node.js'
import { plainAddress } from './node-env.js'
import { readLimits } from './node-limits.js'
import { NodeTransport, type ServerContext } from './node-transport.js'
import { handleUpgrade } from './node-upgrade.js'
import { Exchange } from './pipeline.js'
import { Handshake, Http2Switch, http2Handshake } from './websocket.js'

export { ResponseAbortedError } from './pipeline.js'

/** Options of {@link serve}. */
export interface Http2ServeOptions extends NodeListenerOptions, ListenOptions {
  /** Serve h2 over TLS with these options (`key` and `cert` required; any node:http2 secure server option allowed). */
  readonly tls?: TlsOptions<SecureServerOptions>
  /** With `tls`, also answer HTTP/1.1 clients (by ALPN) on the same port. @default true */
  readonly allowHTTP1?: boolean
  /** A session with no open stream closes (GOAWAY) after this many ms; HTTP/1.1 keep-alive as the node server. @default 5000 */
  readonly keepAliveTimeout?: number
  /** Largest request header list in bytes (HTTP/2's SETTINGS_MAX_HEADER_LIST_SIZE); larger ones are refused. @default 16384 */
  readonly maxHeaderSize?: number
  /** Concurrent streams a client may open on one connection (SETTINGS_MAX_CONCURRENT_STREAMS). @default 128 */
  readonly maxConcurrentStreams?: number
}

/** A listening HTTP/2 server; `close()` sends GOAWAY on every session first. */
export interface Http2TsgiServer extends Listening<Http2Server | Http2SecureServer> {}

const KEYS = [
  'errors',
  'logger',
  'multiprocess',
  'requestTimeout',
  ...LISTEN_KEYS,
  'tls',
  'allowHTTP1',
  'keepAliveTimeout',
  'maxHeaderSize',
  'maxConcurrentStreams',
] as const

const PEER = Symbol('tsgi.peer')
type PeerHolder = Http2Session & { [PEER]?: Peer }

function ignore(): void {}

/** The peer of a session, read from its socket once. */
function peerOf(session: PeerHolder): Peer {
  let peer = session[PEER]
  if (peer === undefined) {
    const socket = session.socket as Socket | undefined
    const remote = socket?.remoteAddress
    peer = {
      address: remote === undefined ? undefined : plainAddress(remote),
      port: socket?.remotePort === undefined ? undefined : String(socket.remotePort),
      localAddress: socket?.localAddress,
      localPort: socket?.localPort,
      encrypted: (socket as Partial<TLSSocket> | undefined)?.encrypted === true,
    }
    session[PEER] = peer
  }
  return peer
}

/** Runs one stream through the pipeline. */
function onStream(ctx: ServerContext, stream: ServerHttp2Stream, raw: string[]): void {
  const ex = new Exchange(ctx, new Http2Transport(stream))
  const session = stream.session
  if (session === undefined) return
  const env = buildHttp2Env(stream, raw, peerOf(session), ctx.env, ex, ex.earlyHints)
  if (env === undefined) ex.plain(400)
  else if (env.REQUEST_METHOD === 'CONNECT') {
    const protocols = http2Handshake(env, pseudoHeader(raw, ':protocol'))
    if (protocols === undefined) {
      ex.report('CONNECT over HTTP/2 is not supported, except for WebSocket; answered 501')
      ex.plain(501)
      return
    }
    // a WebSocket handshake looks the same to the app on every protocol
    env.REQUEST_METHOD = 'GET'
    const handshake = new Handshake(protocols, env, new Http2Switch(stream))
    env['tsgix.websocket'] = handshake
    ex.handshake = handshake
    ex.run(env)
  } else ex.run(env)
}

/** The value of a pseudo-header of a stream's raw list (they come first). */
function pseudoHeader(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length && raw[i]!.charCodeAt(0) === 58; i += 2)
    if (raw[i] === name) return raw[i + 1]
  return undefined
}

/** Listens with `app` over HTTP/2 and resolves once the server accepts connections. */
export function serve(app: App, options: Http2ServeOptions = {}): Promise<Http2TsgiServer> {
  const ctx = makeContext('serve', app, options, KEYS)
  const opts = options as Readonly<Record<string, unknown>>
  const at = readListen('serve', opts)
  const tls = opts.tls as Http2ServeOptions['tls']
  checkTls('serve', tls)
  const allowHTTP1 = optionBoolean('serve', opts, 'allowHTTP1') ?? true
  if (opts.allowHTTP1 !== undefined && tls === undefined) {
    throw new TypeError(`serve: option 'allowHTTP1' needs 'tls' (h2c is prior knowledge only)`)
  }
  const keepAliveTimeout = optionNumber('serve', opts, 'keepAliveTimeout', { min: 0 }) ?? 5000
  const maxHeaderSize = optionNumber('serve', opts, 'maxHeaderSize', { min: 1, integer: true }) ?? 16384
  const maxConcurrentStreams =
    optionNumber('serve', opts, 'maxConcurrentStreams', { min: 1, max: 2 ** 31 - 1, integer: true }) ?? 128

  // extended CONNECT (RFC 8441) carries WebSocket over a stream
  const settings = { maxConcurrentStreams, maxHeaderListSize: maxHeaderSize, enableConnectProtocol: true }
  const server: Http2Server | Http2SecureServer = tls
    ? createSecureServer({ ...tls, allowHTTP1, settings, maxSessionMemory: 64 })
    : createServer({ settings, maxSessionMemory: 64 })
  if (tls && allowHTTP1) {
    // the HTTP/1.1 refusals of the node server (smuggling-prone heads, too many fields)
    const limits = readLimits('serve', { keepAliveTimeout, maxHeaderSize })
    server.on('request', listener(ctx, limits))
    // WebSocket handshakes over HTTP/1.1 on the same port
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      handleUpgrade(ctx, limits, req, socket, head),
    )
    // Adding a 'request' listener makes node route h2 streams through its compatibility
    // objects too; streams are this server's own.
    server.removeAllListeners('stream')
    ;(server as Http2SecureServer & { keepAliveTimeout?: number }).keepAliveTimeout = keepAliveTimeout
  }
  server.on('stream', (stream: ServerHttp2Stream, _headers: unknown, _flags: number, raw: string[]) =>
    onStream(ctx, stream, raw),
  )
  const sessions = new Set<Http2Session>()
  server.on('session', (session: Http2Session) => {
    sessions.add(session)
    session.on('error', ignore)
    session.once('close', () => sessions.delete(session))
    if (keepAliveTimeout > 0) {
      session.setTimeout(keepAliveTimeout, () => {
        // only an idle session: a stream that waits on a slow app is not inactivity of the client
        if (!hasOpenStreams(ctx, session)) session.close()
      })
    }
    if (ctx.closing) session.close()
  })
  // HTTP/1.1 connections of the TLS port, closed by close() once they carry no request.
  const h1Sockets = new Set<Socket>()
  if (tls && allowHTTP1) {
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol === 'h2') return
      h1Sockets.add(socket)
      socket.once('close', () => h1Sockets.delete(socket))
    })
  }
  // Every connection, cut when the grace is over: destroying a session whose peer keeps a
  // stream open unread leaves node waiting on its socket.
  const connections = new Set<Socket>()
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
  })
  server.on('sessionError', ignore)
  server.on('unknownProtocol', (socket: Socket) => socket.destroy())

  const closeIdleH1 = () => {
    const busy = new Set<Socket>()
    for (const ex of ctx.inflight) {
      const transport = ex.transport
      if (transport instanceof NodeTransport) busy.add(transport.socket)
    }
    for (const socket of h1Sockets) if (!busy.has(socket)) socket.destroySoon()
  }
  return startAndListen(ctx, server, at, tls ? 'https' : 'http').then(({ url, port, lifespan }) => ({
    url,
    port,
    server,
    close: gracefulClose(ctx, at.grace, {
      lifespan,
      stop: () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
        // GOAWAY: clients open no new streams, open ones finish
        for (const session of sessions) session.close()
        return stopped
      },
      closeIdle: closeIdleH1,
      cutAll: () => {
        for (const session of sessions) session.destroy(undefined, constants.NGHTTP2_CANCEL)
        for (const socket of h1Sockets) socket.destroy()
        for (const socket of connections) socket.destroy()
      },
    }),
  }))
}

function hasOpenStreams(ctx: ServerContext, session: Http2Session): boolean {
  for (const ex of ctx.inflight) {
    const transport = ex.transport
    if (transport instanceof Http2Transport && transport.stream.session === session) return true
  }
  return false
}
