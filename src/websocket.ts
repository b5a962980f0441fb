/**
 * The WebSocket extension as an application sees it: `env['tsgix.websocket']` on a valid
 * handshake, whose `accept(handler, options)` is the response that switches the connection
 * (spec 3.5, `tsgix.websocket`). The server side lives in `server/websocket.ts`.
 *
 * @example
 * const app: App = (env) => {
 *   const ws = env['tsgix.websocket']
 *   if (!ws) return [426, ['Upgrade', 'websocket'], ['WebSocket only']]
 *   return ws.accept(async (socket) => {
 *     for await (const message of socket) await socket.send(message)
 *   })
 * }
 */
import type { Delayed, Env } from './types.js'

/** A message as it arrives: text frames as strings, binary frames as bytes. */
export type WebSocketMessage = string | Uint8Array

/** How a WebSocket connection closed. */
export interface WebSocketCloseInfo {
  /** The close code (RFC 6455 §7.4): 1005 when the close frame carried none, 1006 when the connection was lost without one. */
  readonly code: number
  /** The close reason the closing side gave ('' when none). */
  readonly reason: string
}

/**
 * Why a connection's `signal` aborted: 'closed' after a close handshake (either side began it),
 * otherwise the `tsgix.signal` reason of a connection that was lost.
 */
export type WebSocketEndReason =
  | 'closed'
  | 'client-disconnected'
  | 'server-shutdown'
  | 'timeout'
  | 'server-error'

/** One accepted WebSocket connection, given to the handler. */
export interface WebSocketConnection extends AsyncIterable<WebSocketMessage> {
  /** The subprotocol the handshake agreed on ('' when none). */
  readonly protocol: string
  /** The request env of the handshake. */
  readonly env: Env
  /** Aborts when the connection is gone, with a {@link WebSocketEndReason}. */
  readonly signal: AbortSignal
  /** Resolves once the connection has closed. */
  readonly closed: Promise<WebSocketCloseInfo>
  /**
   * Sends a text (string) or binary message. Resolves when what is buffered for the peer is back
   * under the high-water mark, at once while it is; rejects once the connection is closing or gone.
   */
  send(data: string | Uint8Array | ArrayBuffer): Promise<void>
  /** Starts the close handshake (code 1000 by default, or 3000–4999 and the RFC's sendable codes; reason at most 123 bytes). */
  close(code?: number, reason?: string): void
}

/** The function that runs a connection; the connection is closed (1000) when it returns, 1011 when it throws. */
export type WebSocketHandler = (socket: WebSocketConnection) => void | Promise<void>

/** Which `Origin` a handshake may come from. */
export type OriginPolicy =
  | 'same-origin'
  | '*'
  | readonly string[]
  | RegExp
  | ((origin: string, env: Env) => boolean)

/** Options of {@link WebSocketExtension.accept}. */
export interface WebSocketAcceptOptions {
  /** The subprotocol to agree on: one of {@link WebSocketExtension.protocols}. @default none */
  readonly protocol?: string
  /** Largest message in bytes; a larger one closes the connection with 1009. @default 16777216 (16 MiB) */
  readonly maxPayload?: number
  /** permessage-deflate (RFC 7692), when the client offers it. @default false */
  readonly compress?: boolean
  /**
   * Origins a browser may open the connection from (cross-site WebSocket hijacking): with
   * 'same-origin' the `Origin` host must be the request's `Host`; a list of exact origins
   * (`'https://app.example.com'`), a RegExp or a function decide otherwise; '*' allows any. A
   * handshake without `Origin` (not from a browser) is always allowed. A refused one gets 403.
   * @default 'same-origin'
   */
  readonly allowedOrigins?: OriginPolicy
  /** Milliseconds a peer may send nothing (no message, ping or pong) before it is closed as gone; the server pings it halfway. 0 for none. @default 60000 */
  readonly idleTimeout?: number
  /** Bytes buffered for the peer above which `send()` waits for them to drain; also the bytes of unread messages above which reading pauses. @default 65536 */
  readonly highWaterMark?: number
}

/** `env['tsgix.websocket']`: present only on a valid WebSocket handshake, on servers that provide it. */
export interface WebSocketExtension {
  /** The subprotocols the client offered (`Sec-WebSocket-Protocol`), in its order. */
  readonly protocols: readonly string[]
  /**
   * The response that accepts the handshake: a delayed response answering `101` (middleware
   * see it and their headers go out with it), then `handler` runs the connection. Invalid
   * options throw a TypeError.
   */
  accept(handler: WebSocketHandler, options?: WebSocketAcceptOptions): Delayed
}

declare module './types.js' {
  interface Env {
    /** The WebSocket extension, on a valid WebSocket handshake only. */
    'tsgix.websocket'?: WebSocketExtension
  }
}
