/**
 * The node:http(s) server for TSGI applications (`tsgi/server/node`).
 *
 * `serve(app, options)` listens and returns a {@link TsgiServer} whose `close()` shuts down
 * gracefully; `toNodeListener(app)` gives a `(req, res)` listener for `http.createServer` or an
 * Express/Connect app. The server validates every response head before writing it, streams
 * bodies with backpressure, owns framing and keep-alive, answers malformed requests with a 4xx
 * and never lets an application error stop the process.
 *
 * @example
 * const server = await serve(app, { port: 8080 })
 * process.once('SIGTERM', () => void server.close())
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https'
import type { Duplex } from 'node:stream'
import { checkOptions, optionBoolean, optionFunction, optionNumber } from '../options.js'
import type { App, ErrorStream, Logger } from '../types.js'
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
import { handleConnect } from './node-connect.js'
import { mountedTarget, plainTarget } from './node-env.js'
import {
  admitConnect,
  admitRequest,
  guardServer,
  LIMIT_KEYS,
  nodeServerOptions,
  readLimits,
  type ServerLimits,
} from './node-limits.js'
import { handleRequest, type ServerContext } from './node-transport.js'
import { handleUpgrade } from './node-upgrade.js'
import { pipelineContext } from './pipeline.js'

export { ResponseAbortedError } from './pipeline.js'

/** Options of {@link toNodeListener}; {@link serve} takes these too. */
export interface NodeListenerOptions {
  /** Where `tsgi.errors` writes (application errors, invalid responses). @default process.stderr */
  readonly errors?: ErrorStream
  /** Given to applications as `tsgix.logger`. */
  readonly logger?: Logger
  /** The value of `tsgi.multiprocess` (true when run under a cluster). @default false */
  readonly multiprocess?: boolean
  /** Milliseconds an application has to complete a response; then `tsgix.signal` aborts with 'timeout' and the request ends (503, or a cut connection once the head is out). 0 for none. @default 0 */
  readonly requestTimeout?: number
}

/** Options of {@link serve}. */
export interface ServeOptions extends NodeListenerOptions, ListenOptions {
  /** Serve HTTPS with these TLS options (`key` and `cert` required; any other node:https server option allowed). */
  readonly tls?: TlsOptions<HttpsServerOptions>
  /** Milliseconds an idle keep-alive connection stays open; 0 keeps it open. @default 5000 */
  readonly keepAliveTimeout?: number
  /** Milliseconds a request head may take, from the connection's start or the request's first byte; then 408 and a close. 0 for none. @default 60000 */
  readonly headersTimeout?: number
  /** Milliseconds a request body may send nothing while the app waits for it; then 408 (or a cut connection once the head is out) and the app's read fails. 0 for none. @default 60000 */
  readonly bodyTimeout?: number
  /** Connections served at once; a request on a connection over the cap gets 503 and a close. 0 for no cap. @default 0 */
  readonly maxConnections?: number
  /** Header fields a request head may hold; more get 431 and a close. 0 for no count. @default 100 */
  readonly maxHeaders?: number
  /** Largest request head in bytes; larger ones get 431. @default 16384 */
  readonly maxHeaderSize?: number
}

/**
 * A listening server. `close()` also closes idle keep-alive connections at once, and gives
 * responses that finish during the grace `Connection: close`.
 */
export interface TsgiServer extends Listening<Server> {}

const LISTENER_KEYS = ['errors', 'logger', 'multiprocess', 'requestTimeout'] as const
const SERVE_KEYS = [...LISTENER_KEYS, ...LISTEN_KEYS, 'tls', ...LIMIT_KEYS] as const

/** Checks the options common to every node-based server and makes the context its requests share. */
export function makeContext(
  component: string,
  app: unknown,
  options: unknown,
  keys: readonly string[],
): ServerContext {
  if (typeof app !== 'function') throw new TypeError(`${component}: app must be a function`)
  const opts = checkOptions(component, options, keys)
  const errors = opts.errors
  if (errors !== undefined && (errors === null || typeof (errors as ErrorStream).write !== 'function')) {
    throw new TypeError(`${component}: option 'errors' must be an object with a write method`)
  }
  const errorStream = (errors as ErrorStream | undefined) ?? process.stderr
  const requestTimeout = optionNumber(component, opts, 'requestTimeout', { min: 0 }) ?? 0
  return {
    ...pipelineContext(app as App, errorStream, requestTimeout),
    env: {
      errors: errorStream,
      logger: optionFunction<Logger>(component, opts, 'logger'),
      multiprocess: optionBoolean(component, opts, 'multiprocess') ?? false,
    },
    tunnels: new Set<Duplex>(),
  }
}

/**
 * The `(req, res)` listener of a context: node:http's side of every node-based server. With
 * `limits` (a server of its own), a request they refuse is answered here and never reaches the app.
 */
export function listener(
  ctx: ServerContext,
  limits?: ServerLimits,
): (req: IncomingMessage, res: ServerResponse) => void {
  return function tsgiListener(req, res) {
    if (limits !== undefined && !admitRequest(limits, req, res)) return
    const url = req.url ?? '/'
    const original = (req as { originalUrl?: unknown }).originalUrl
    const target =
      typeof original === 'string' && original !== url
        ? mountedTarget(url, original)
        : plainTarget(url, req.method ?? '')
    handleRequest(ctx, req, res, target)
  }
}

/**
 * A `(req, res)` listener running `app`. Inside an Express/Connect app mounted at a path,
 * SCRIPT_NAME is the mount path (from `req.originalUrl`) and PATH_INFO the rest.
 */
export function toNodeListener(
  app: App,
  options: NodeListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return listener(makeContext('toNodeListener', app, options, LISTENER_KEYS))
}

/** Listens with `app` and resolves once the server accepts connections. */
export function serve(app: App, options: ServeOptions = {}): Promise<TsgiServer> {
  const ctx = makeContext('serve', app, options, SERVE_KEYS)
  const opts = options as Readonly<Record<string, unknown>>
  const at = readListen('serve', opts)
  const tls = opts.tls as ServeOptions['tls']
  checkTls('serve', tls)
  const limits = readLimits('serve', opts)

  const serverOptions = nodeServerOptions(limits)
  const onRequest = listener(ctx, limits)
  const server: Server = tls
    ? createHttpsServer({ ...tls, ...serverOptions }, onRequest)
    : createHttpServer(serverOptions, onRequest)
  guardServer(server, limits, tls !== undefined)
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (admitConnect(limits, req, socket)) handleConnect(ctx, req, socket, head)
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    handleUpgrade(ctx, limits, req, socket, head),
  )

  return startAndListen(ctx, server, at, tls ? 'https' : 'http').then(({ url, port, lifespan }) => ({
    url,
    port,
    server,
    close: gracefulClose(ctx, at.grace, {
      lifespan,
      stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
      closeIdle: () => server.closeIdleConnections(),
      cutAll: () => {
        for (const socket of ctx.tunnels) socket.destroy()
        server.closeAllConnections()
      },
    }),
  }))
}
