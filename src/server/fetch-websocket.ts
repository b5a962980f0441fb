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
import type { FetchTransport } from './fetch-transport.js'
import { Handshake, http1Handshake, isAppField, type Switcher } from './websocket.js'
import {
  type Accepted,
  type AcceptSettings,
  Connection,
  refusedSend,
  type SessionOwner,
} from './websocket-connection.js'

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

/** One accepted connection over a web-standard WebSocket. */
class WebConnection extends Connection {
  constructor(
    private readonly socket: WebSocket,
    env: Env,
    accepted: Accepted,
    owner: SessionOwner,
  ) {
    super(env, accepted, owner)
    socket.addEventListener('message', (event) => {
      const data: unknown = event.data
      this.push(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer))
    })
    // a connection lost without a close frame reads 1006 everywhere (Deno gives 0 for some)
    socket.addEventListener('close', (event) =>
      this.ended(event.wasClean ? event.code : 1006, event.reason, event.wasClean && event.code !== 1006),
    )
  }

  protected get open(): boolean {
    return this.socket.readyState === OPEN
  }

  protected closeSocket(code: number, reason: string | undefined): void {
    this.socket.close(code, reason)
  }

  /** A web WebSocket may send only 1000 and 3000–4999 itself: where it refuses 1011, 4011 stands for it, and 1000 for 1001. */
  protected closeAtEnd(code: 1000 | 1001 | 1011, reason: string): void {
    try {
      this.socket.close(code, reason)
    } catch {
      this.socket.close(code === 1011 ? 4011 : 1000, reason)
    }
  }

  send(data: string | Uint8Array | ArrayBuffer): Promise<void> {
    const socket = this.socket
    if (socket.readyState !== OPEN) return refusedSend(socket.readyState)
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

  terminate(reason: AbortReason): void {
    this.lost ??= reason
    if (this.socket.readyState === OPEN) this.socket.close(1000, 'server shutting down')
  }
}
