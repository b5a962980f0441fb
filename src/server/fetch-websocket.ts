/**
 * WebSocket on the fetch adapter, on a runtime's own upgrade API: the runtime answers the
 * handshake with a `101` response the handler returns, and gives a web-standard `WebSocket`
 * for the connection. Deno's `Deno.upgradeWebSocket` is found by itself; another runtime's
 * upgrade can be given as the adapter's `websocket` option (a {@link WebSocketUpgrade}).
 *
 * A web WebSocket cannot pause its reading, send pings or tell when its buffer drained: unread
 * messages are queued without a bound, pings and idle peers are the runtime's (Deno's
 * `idleTimeout`), and `send()` waits by looking at `bufferedAmount`.
 */
import type { AbortReason, Env, HeaderList } from '../types.js'
import type {
  WebSocketCloseInfo,
  WebSocketConnection,
  WebSocketEndReason,
  WebSocketMessage,
} from '../websocket.js'
import type { FetchTransport } from './fetch-transport.js'
import {
  type Accepted,
  type AcceptSettings,
  Handshake,
  http1Handshake,
  isAppField,
  type Session,
  type SessionOwner,
  type Switcher,
} from './websocket.js'

/** What a runtime's upgrade gives: the connection's socket and the response to return. */
export interface UpgradeResult {
  readonly socket: WebSocket
  readonly response: globalThis.Response
}

/**
 * A runtime's WebSocket upgrade for a handshake `request`, agreeing on `settings.protocol`
 * (when set); `headers` are the app's fields for the `101`.
 */
export type WebSocketUpgrade = (
  request: globalThis.Request,
  settings: AcceptSettings,
  headers: HeaderList,
) => UpgradeResult

interface DenoNamespace {
  upgradeWebSocket(
    request: globalThis.Request,
    options: { protocol?: string; idleTimeout?: number },
  ): { socket: WebSocket; response: globalThis.Response }
}

/** Deno's upgrade: the idle timeout is Deno's own (whole seconds), the app's fields go on its 101. */
function denoUpgrade(deno: DenoNamespace): WebSocketUpgrade {
  return (request, settings, headers) => {
    const options: { protocol?: string; idleTimeout: number } = {
      idleTimeout: Math.ceil(settings.idleTimeout / 1000),
    }
    if (settings.protocol !== undefined) options.protocol = settings.protocol
    const { socket, response } = deno.upgradeWebSocket(request, options)
    for (let i = 0; i < headers.length; i += 2) {
      if (isAppField(headers[i]!)) response.headers.append(headers[i]!, headers[i + 1]!)
    }
    return { socket, response }
  }
}

/** The upgrade of the runtime this runs on, if it has one the adapter knows. */
export function runtimeUpgrade(): WebSocketUpgrade | undefined {
  const deno = (globalThis as { Deno?: Partial<DenoNamespace> }).Deno
  if (typeof deno?.upgradeWebSocket === 'function') return denoUpgrade(deno as DenoNamespace)
  return undefined
}

/** Puts `tsgix.websocket` in `env` when `request` is a valid handshake and the runtime can upgrade it. */
export function offerWebSocket(
  env: Env,
  ex: { handshake: Handshake | undefined },
  request: globalThis.Request,
  transport: FetchTransport,
  upgrade: WebSocketUpgrade,
): void {
  const protocols = http1Handshake(env)
  if (protocols === undefined) return
  const handshake = new Handshake(protocols, env, new FetchSwitch(request, transport, upgrade))
  env['tsgix.websocket'] = handshake
  ex.handshake = handshake
}

/** The switch of a fetch request: the runtime's upgrade, its response handed back, the session on its socket. */
export class FetchSwitch implements Switcher {
  constructor(
    private readonly request: globalThis.Request,
    private readonly transport: FetchTransport,
    private readonly upgrade: WebSocketUpgrade,
  ) {}

  switchTo(owner: SessionOwner, accepted: Accepted, headers: HeaderList, env: Env): void {
    let result: UpgradeResult
    this.transport.switching()
    try {
      result = this.upgrade(this.request, accepted.settings, headers)
    } catch (err) {
      owner.switchFailed(err)
      return
    }
    this.transport.switched(result.response)
    const socket = result.socket
    socket.binaryType = 'arraybuffer'
    const connection = new WebConnection(socket, env, accepted, owner)
    owner.sessionStarted(connection)
    if (socket.readyState === WebSocket.OPEN) connection.run()
    else socket.addEventListener('open', () => connection.run(), { once: true })
  }
}

const OPEN = 1
const RESOLVED = Promise.resolve()

function ignore(): void {}

function rejected(err: Error): Promise<void> {
  const p = Promise.reject(err)
  p.catch(ignore)
  return p
}

/** One accepted connection over a web-standard WebSocket. */
class WebConnection implements WebSocketConnection, Session {
  readonly closed: Promise<WebSocketCloseInfo>
  private readonly controller = new AbortController()
  private resolveClosed!: (info: WebSocketCloseInfo) => void
  private readonly queue: WebSocketMessage[] = []
  private waiting: ((step: IteratorResult<WebSocketMessage>) => void) | undefined
  private done = false
  private lost: AbortReason | undefined

  constructor(
    private readonly socket: WebSocket,
    readonly env: Env,
    private readonly accepted: Accepted,
    private readonly owner: SessionOwner,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve
    })
    socket.addEventListener('message', (event) => {
      const data: unknown = event.data
      this.push(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer))
    })
    // a connection lost without a close frame reads 1006 everywhere (Deno gives 0 for some)
    socket.addEventListener('close', (event) =>
      this.onClose(event.wasClean ? event.code : 1006, event.reason, event.wasClean),
    )
  }

  get protocol(): string {
    return this.accepted.settings.protocol ?? ''
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  run(): void {
    let ran: void | Promise<void>
    try {
      ran = this.accepted.handler(this)
    } catch (err) {
      this.failed(err)
      return
    }
    Promise.resolve(ran).then(
      () => {
        if (this.socket.readyState === OPEN) this.socket.close(1000)
      },
      (err: unknown) => this.failed(err),
    )
  }

  private failed(err: unknown): void {
    this.owner.sessionProblem(err)
    this.lost ??= 'server-error'
    // a web WebSocket may send only 1000 and 3000–4999 itself: 4011 stands for 1011
    if (this.socket.readyState === OPEN) this.closeWith(1011, 4011, 'internal error')
  }

  private closeWith(code: number, fallback: number, reason: string): void {
    try {
      this.socket.close(code, reason)
    } catch {
      this.socket.close(fallback, reason)
    }
  }

  private push(message: WebSocketMessage): void {
    const waiting = this.waiting
    if (waiting !== undefined) {
      this.waiting = undefined
      waiting({ value: message, done: false })
    } else this.queue.push(message)
  }

  next(): Promise<IteratorResult<WebSocketMessage>> {
    const message = this.queue.shift()
    if (message !== undefined) return Promise.resolve({ value: message, done: false })
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

  send(data: string | Uint8Array | ArrayBuffer): Promise<void> {
    const socket = this.socket
    if (socket.readyState !== OPEN) {
      return rejected(
        new Error(
          `tsgi: WebSocket send() after the connection ${socket.readyState === 2 ? 'began closing' : 'closed'}`,
        ),
      )
    }
    socket.send(data as string | ArrayBuffer)
    const mark = this.accepted.settings.highWaterMark
    if (socket.bufferedAmount <= mark) return RESOLVED
    return new Promise((resolve, reject) => {
      const check = () => {
        if (socket.readyState !== OPEN) reject(new Error('tsgi: WebSocket closed while a send() waited'))
        else if (socket.bufferedAmount <= mark) resolve()
        else setTimeout(check, 5)
      }
      setTimeout(check, 5)
    })
  }

  close(code?: number, reason?: string): void {
    if (this.socket.readyState !== OPEN) return
    try {
      this.socket.close(code ?? 1000, reason)
    } catch (err) {
      throw new TypeError(`tsgi: WebSocket close(): ${(err as Error).message}`)
    }
  }

  goAway(): void {
    if (this.socket.readyState === OPEN) this.closeWith(1001, 1000, 'server shutting down')
  }

  terminate(reason: AbortReason): void {
    this.lost ??= reason
    if (this.socket.readyState === OPEN) this.socket.close(1000, 'server shutting down')
  }

  private onClose(code: number, reason: string, wasClean: boolean): void {
    this.done = true
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.({ value: undefined, done: true })
    const lost = this.lost ?? (wasClean && code !== 1006 ? undefined : 'client-disconnected')
    const ended: WebSocketEndReason = lost ?? 'closed'
    this.controller.abort(ended)
    this.resolveClosed({ code, reason })
    this.owner.sessionEnded(lost)
    this.accepted.writer?.close().catch(ignore)
  }
}
