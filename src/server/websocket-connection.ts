/**
 * An accepted WebSocket connection as the handler sees it, whatever carries its frames: the
 * queue of messages the handler iterates, `closed` and `signal`, the handler's run (the
 * connection closes with 1000 when it returns, 1011 when it fails) and the end reported to the
 * exchange. A subclass speaks to its socket: `ws`'s on the node servers (`websocket.ts`), a web
 * WebSocket on the fetch adapter (`fetch-websocket.ts`).
 */
import { isPromiseLike } from '../body.js'
import type { AbortReason, Env, Writer } from '../types.js'
import type {
  OriginPolicy,
  WebSocketCloseInfo,
  WebSocketConnection,
  WebSocketEndReason,
  WebSocketHandler,
  WebSocketMessage,
} from '../websocket.js'

/** Accept options, resolved. */
export interface AcceptSettings {
  readonly protocol: string | undefined
  readonly maxPayload: number
  readonly compress: boolean
  readonly allowedOrigins: OriginPolicy
  readonly idleTimeout: number
  readonly highWaterMark: number
}

/** The app's accept(): what runs the connection once the protocol has switched. */
export interface Accepted {
  readonly handler: WebSocketHandler
  readonly settings: AcceptSettings
  /** The writer the 101 was answered with, through the middleware: closed when the connection ends. */
  writer: Writer | undefined
}

/** A running session, as the exchange drives it at shutdown. */
export interface Session {
  /** Begins the close handshake with 1001 (the server is going away). */
  goAway(): void
  /** Drops the connection now: `reason` is what it ended with. */
  terminate(reason: AbortReason): void
}

/** What a session tells the exchange it runs in (the pipeline's Exchange implements it). */
export interface SessionOwner {
  /** The protocol switched and `session` runs. */
  sessionStarted(session: Session): void
  /** The session ended: cleanly (no reason), or lost with `reason`. */
  sessionEnded(reason: AbortReason | undefined): void
  /** The handler failed, or the session reports a problem: one line on the server's error stream. */
  sessionProblem(problem: unknown): void
  /** The switch could not start (the head is still unsent): answered as an app failure. */
  switchFailed(err: unknown): void
}

function ignore(): void {}

/** A send() refused because the connection is closing (`state` 2) or closed. */
export function refusedSend(state: number): Promise<void> {
  const p = Promise.reject(
    new Error(`tsgi: WebSocket send() after the connection ${state === 2 ? 'began closing' : 'closed'}`),
  )
  p.catch(ignore)
  return p
}

export abstract class Connection implements WebSocketConnection, Session {
  readonly closed: Promise<WebSocketCloseInfo>
  private readonly controller = new AbortController()
  private resolveClosed!: (info: WebSocketCloseInfo) => void
  /** Messages that arrived before the handler asked for them. */
  private readonly queue: WebSocketMessage[] = []
  /** A handler waiting for the next message. */
  private waiting: ((step: IteratorResult<WebSocketMessage>) => void) | undefined
  /** No more messages will come. */
  private done = false
  /** Why the connection is ending, when the server ended it (or the handler failed). */
  protected lost: AbortReason | undefined

  constructor(
    readonly env: Env,
    protected readonly accepted: Accepted,
    protected readonly owner: SessionOwner,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve
    })
  }

  get protocol(): string {
    return this.accepted.settings.protocol ?? ''
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** The connection is open: sends and closes may go out. */
  protected abstract get open(): boolean
  /** Closes with the app's `code` (1000 by default): throws for one that cannot be sent. */
  protected abstract closeSocket(code: number, reason: string | undefined): void
  /** Closes with the server's own code: the handler done (1000), failed (1011), or shutdown (1001). */
  protected abstract closeAtEnd(code: 1000 | 1001 | 1011, reason: string): void
  /** A queued message was taken; `left` are still queued. */
  protected taken(_message: WebSocketMessage, _left: number): void {}
  /** The queue was dropped: nothing waits to be read any more. */
  protected dropped(): void {}

  abstract send(data: string | Uint8Array | ArrayBuffer): Promise<void>
  abstract terminate(reason: AbortReason): void

  close(code?: number, reason?: string): void {
    if (!this.open) return
    try {
      this.closeSocket(code ?? 1000, reason)
    } catch (err) {
      throw new TypeError(`tsgi: WebSocket close(): ${(err as Error).message}`)
    }
    this.drop()
  }

  goAway(): void {
    if (!this.open) return
    this.closeAtEnd(1001, 'server shutting down')
    this.drop()
  }

  /** Runs the handler. */
  run(): void {
    let ran: void | Promise<void>
    try {
      ran = this.accepted.handler(this)
    } catch (err) {
      this.failed(err)
      return
    }
    if (isPromiseLike(ran))
      ran.then(
        () => this.returned(),
        (err: unknown) => this.failed(err),
      )
    else this.returned()
  }

  private returned(): void {
    this.drop()
    if (this.open) this.closeAtEnd(1000, '')
  }

  private failed(err: unknown): void {
    this.owner.sessionProblem(err)
    this.lost ??= 'server-error'
    this.drop()
    if (this.open) this.closeAtEnd(1011, 'internal error')
  }

  /** The handler is done reading, or the connection is closing: unread messages are dropped. */
  protected drop(): void {
    this.queue.length = 0
    this.dropped()
  }

  /** A message arrived: handed to a waiting handler, else queued. True when it was queued. */
  protected push(message: WebSocketMessage): boolean {
    const waiting = this.waiting
    if (waiting === undefined) {
      this.queue.push(message)
      return true
    }
    this.waiting = undefined
    waiting({ value: message, done: false })
    return false
  }

  next(): Promise<IteratorResult<WebSocketMessage>> {
    const queue = this.queue
    if (queue.length > 0) {
      const message = queue.shift()!
      this.taken(message, queue.length)
      return Promise.resolve({ value: message, done: false })
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => {
      this.waiting = resolve
    })
  }

  [Symbol.asyncIterator](): AsyncIterator<WebSocketMessage> {
    return {
      next: () => this.next(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    }
  }

  /**
   * The connection closed: the iteration ends, `signal` aborts, `closed` resolves and the
   * exchange is told, with the reason when it was lost (no close handshake: `clean` false).
   */
  protected ended(code: number, reason: string, clean: boolean): void {
    this.done = true
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.({ value: undefined, done: true })
    const lost = this.lost ?? (clean ? undefined : 'client-disconnected')
    const end: WebSocketEndReason = lost ?? 'closed'
    this.controller.abort(end)
    this.resolveClosed({ code, reason })
    this.owner.sessionEnded(lost)
    this.accepted.writer?.close().catch(ignore)
  }
}
