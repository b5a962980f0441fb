/**
 * The fetch-API server adapter: turns a TSGI application into a `(Request, info?) => Response`
 * handler for any runtime that speaks the web fetch API (Bun, Deno, Cloudflare Workers), and
 * underlies the in-process test harness. It runs the same response pipeline as every other
 * server (`pipeline.ts`), on the fetch transport (`fetch-transport.ts`).
 *
 * The runtime owns framing, so `Transfer-Encoding` is dropped from the app's headers. Status and
 * headers are validated before anything is sent; a bad one gives a 500 and a message naming it
 * on `tsgi.errors`. Statuses outside 200–599 cannot be expressed by a web `Response` and are
 * treated the same way.
 *
 * @example Bun.serve({ fetch: toFetchHandler(app) })
 * @example Deno.serve((req, info) => handler(req, { remoteAddress: info.remoteAddr.hostname }))
 * @example export default { fetch: (req, _env, ctx) => handler(req, { waitUntil: (p) => ctx.waitUntil(p) }) }
 */
import type { App, ErrorStream } from '../types.js'
import { type FetchInfo, fetchEnv } from './fetch-env.js'
import { FetchTransport } from './fetch-transport.js'
import { offerWebSocket, runtimeUpgrade, type WebSocketUpgrade } from './fetch-websocket.js'
import { lifespanOnDemand } from './lifespan.js'
import { Exchange, pipelineContext } from './pipeline.js'

export type { FetchInfo } from './fetch-env.js'
export type { UpgradeResult, WebSocketUpgrade } from './fetch-websocket.js'
export { ResponseAbortedError } from './pipeline.js'

/** Options of {@link toFetchHandler}. */
export interface FetchHandlerOptions {
  /** The `tsgi.errors` stream. @default writes to `process.stderr` where there is one */
  readonly errors?: ErrorStream
  /**
   * How WebSocket handshakes are upgraded (`tsgix.websocket`): found by itself on Deno; a
   * runtime's own {@link WebSocketUpgrade} otherwise; false for none.
   * @default the runtime's, where the adapter knows it
   */
  readonly websocket?: WebSocketUpgrade | false
}

/** A fetch-API request handler. */
export type FetchHandler = (request: globalThis.Request, info?: FetchInfo) => Promise<globalThis.Response>

const stderr: ErrorStream = { write: (m) => globalThis.process?.stderr?.write(m) }

/**
 * The handler {@link toFetchHandler} returns: a {@link FetchHandler} that also runs the app's
 * lifespan hooks (spec 5.8). There is no listen step: the first request runs the startup (or
 * call `startup()` before handing the handler to the runtime), and only the host knows when it
 * stops, so the shutdown runs when it calls `shutdown()`.
 */
export interface TsgiFetchHandler extends FetchHandler {
  /** Runs the lifespan startup now, or waits for the one under way; rejects with a startup's error (a later call or request tries again). */
  startup(): Promise<void>
  /** Call once the runtime sends no more requests: waits for running cleanup handlers, then runs the lifespan shutdown. A later request starts the hooks again. */
  shutdown(): Promise<void>
}

/** Wraps `app` as a fetch-API handler. */
export function toFetchHandler(app: App, options: FetchHandlerOptions = {}): TsgiFetchHandler {
  if (typeof app !== 'function') throw new TypeError('toFetchHandler: app must be a function')
  if (options.errors !== undefined && typeof options.errors?.write !== 'function') {
    throw new TypeError('toFetchHandler: option errors must have a write(message) method')
  }
  const websocket = options.websocket
  if (websocket !== undefined && websocket !== false && typeof websocket !== 'function') {
    throw new TypeError('toFetchHandler: option websocket must be an upgrade function or false')
  }
  const upgrade = websocket === false ? undefined : (websocket ?? runtimeUpgrade())
  const errors = options.errors ?? stderr
  const lifespan = lifespanOnDemand(app, errors)
  const ctx = pipelineContext(lifespan.app, errors, 0)
  const handler = function tsgiFetch(request: globalThis.Request, info: FetchInfo = {}) {
    const transport = new FetchTransport(request, info)
    const ex = new Exchange(ctx, transport)
    const env = fetchEnv(request, info, ctx.errors, ex)
    if (env === undefined) ex.plain(400)
    else {
      if (upgrade !== undefined) offerWebSocket(env, ex, request, transport, upgrade)
      ex.run(env)
    }
    return transport.response
  }
  return Object.assign(handler, {
    startup: lifespan.startup,
    async shutdown() {
      while (ctx.cleanups.size > 0) await Promise.all(ctx.cleanups)
      await lifespan.shutdown()
    },
  })
}
