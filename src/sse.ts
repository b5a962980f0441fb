/**
 * sse — Server-Sent Events as an ordinary delayed response: the `text/event-stream` head, events
 * framed as the WHATWG HTML standard parses them, heartbeat comments while the stream is idle,
 * the client's `Last-Event-ID`, and a signal for the stream's end. Every event is one write to
 * the response's Writer, so middleware (Deflater flushes per event) and backpressure apply as
 * they do to any streaming response; nothing is buffered here.
 *
 * Env keys read: `REQUEST_METHOD` (a HEAD request gets the head alone), `HTTP_LAST_EVENT_ID`,
 * `tsgix.signal` (the client leaving ends the stream).
 *
 * @example
 * const app: App = (env) =>
 *   sse(env, async (stream) => {
 *     let id = Number(stream.lastEventId ?? 0)
 *     while (!stream.signal.aborted) {
 *       await stream.send({ id: String(++id), event: 'tick', data: new Date().toISOString() })
 *       await sleep(1000, undefined, { signal: stream.signal }).catch(() => {})
 *     }
 *   })
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
import { handled } from './body-filter.js'
import { checkOptions, optionNumber } from './options.js'
import type { Delayed, Env, HeaderList, Writer } from './types.js'

/** One event. Every field is optional; `data` is what the browser's `message` event carries. */
export interface SseEvent {
  /** The data; each line (split on CR LF, CR or LF) becomes one `data:` line. Absent: no `data:` line, so browsers dispatch nothing (but still take `id` and `retry`). */
  readonly data?: string
  /** The event type (`addEventListener(type)` in the browser); no CR or LF. */
  readonly event?: string
  /** The event id, sent back by a reconnecting browser as `Last-Event-ID`; no CR, LF or NUL. `''` resets it. */
  readonly id?: string
  /** Milliseconds the browser waits before reconnecting; a non-negative integer. */
  readonly retry?: number
}

/** The stream a handler writes to. */
export interface SseStream {
  /**
   * Sends one event. Resolves when the writer can take more (backpressure), rejects once the
   * client is gone or the stream has ended. A malformed event throws a TypeError at once.
   */
  send(event: SseEvent): Promise<void>
  /** Sends a comment (`: text`, one line per line of `text`), which clients ignore. */
  comment(text: string): Promise<void>
  /** The `Last-Event-ID` request header (UTF-8 decoded), or undefined when the request has none. */
  readonly lastEventId: string | undefined
  /**
   * Aborts when the client leaves or the server cuts the request (its reason is then
   * `tsgix.signal`'s: `'client-disconnected'`, `'server-shutdown'`, `'timeout'`, `'server-error'`),
   * when a write fails without that signal (the error), or once the handler has returned or
   * thrown (`'ended'`).
   */
  readonly signal: AbortSignal
}

/** The function that produces the events. The stream ends when it returns or throws. */
export type SseHandler = (stream: SseStream) => void | Promise<void>

/** Options of {@link sse}. */
export interface SseOptions {
  /** Milliseconds of idleness (no event or comment written) after which a `:` comment is sent; 0 for none. @default 15000 */
  readonly heartbeat?: number
  /** Headers added to the response, as a flat list; a name given here replaces the default of that name. @default [] */
  readonly headers?: HeaderList
}

const NAME = 'sse'
/** Well inside the 30–120 s idle timeouts of common proxies and load balancers. */
const DEFAULT_HEARTBEAT = 15_000
/** The largest delay node timers take. */
const MAX_DELAY = 2 ** 31 - 1
const DEFAULT_HEADERS: HeaderList = [
  'Content-Type',
  'text/event-stream; charset=utf-8',
  'Cache-Control',
  'no-cache',
  // nginx: stream this response even where proxy_buffering is on
  'X-Accel-Buffering',
  'no',
]
const LINE_BREAK = /\r\n|\r|\n/
const BAD_FIELD = /[\r\n]/
const BAD_ID = /[\r\n\0]/
const HEARTBEAT = ':\n\n'

/**
 * A Server-Sent Events response: calls `handler` with an {@link SseStream} once the head is out,
 * and ends the response when it returns. A handler that throws fails the response as any
 * delayed response failing after its head does (the server reports it and cuts the connection).
 * Bad options, or a handler that is not a function, throw a TypeError here.
 */
export function sse(env: Env, handler: SseHandler, options?: SseOptions): Delayed {
  if (env === null || typeof env !== 'object') throw new TypeError(`${NAME}: env must be an object`)
  if (typeof handler !== 'function') throw new TypeError(`${NAME}: handler must be a function`)
  const opts = checkOptions(NAME, options, ['heartbeat', 'headers'])
  const heartbeat =
    optionNumber(NAME, opts, 'heartbeat', { integer: true, min: 0, max: MAX_DELAY }) ?? DEFAULT_HEARTBEAT
  const headers = responseHeaders(opts.headers)
  return async function sseResponse(respond) {
    const writer = respond([200, headers])
    if (env.REQUEST_METHOD === 'HEAD') return writer.close()
    const stream = new EventStream(writer, env, heartbeat)
    try {
      await handler(stream)
    } catch (err) {
      stream.end()
      throw err
    }
    stream.end()
    return stream.close()
  }
}

/** The defaults with `extra` added, a default replaced by an entry of the same name. */
function responseHeaders(extra: unknown): HeaderList {
  if (extra === undefined) return [...DEFAULT_HEADERS]
  if (!Array.isArray(extra) || extra.length % 2 !== 0 || !extra.every((v) => typeof v === 'string')) {
    throw new TypeError(`${NAME}: option 'headers' must be a flat list of name, value strings`)
  }
  const given = new Set(extra.filter((_, i) => i % 2 === 0).map((n: string) => n.toLowerCase()))
  const out: HeaderList = []
  for (let i = 0; i < DEFAULT_HEADERS.length; i += 2) {
    if (!given.has(DEFAULT_HEADERS[i]!.toLowerCase())) out.push(DEFAULT_HEADERS[i]!, DEFAULT_HEADERS[i + 1]!)
  }
  return out.concat(extra as HeaderList)
}

/** `name: value` lines, one per line of `value` (`name:` alone for an empty line). */
function lines(name: string, value: string): string {
  let out = ''
  for (const line of value.split(LINE_BREAK)) out += line === '' ? `${name}:\n` : `${name}: ${line}\n`
  return out
}

function field(name: string, value: unknown, bad: RegExp, what: string): string {
  if (typeof value !== 'string' || bad.test(value)) {
    throw new TypeError(`${NAME}: send(): '${name}' must be a string without ${what}`)
  }
  return value === '' ? `${name}:\n` : `${name}: ${value}\n`
}

/** An event as it goes on the wire, ending with the blank line that dispatches it. */
function frame(event: SseEvent): string {
  if (event === null || typeof event !== 'object')
    throw new TypeError(`${NAME}: send() takes an event object`)
  let out = ''
  if (event.event !== undefined) out += field('event', event.event, BAD_FIELD, 'CR or LF')
  if (event.id !== undefined) out += field('id', event.id, BAD_ID, 'CR, LF or NUL')
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw new TypeError(`${NAME}: send(): 'retry' must be a non-negative integer`)
    }
    out += `retry: ${event.retry}\n`
  }
  if (event.data !== undefined) {
    if (typeof event.data !== 'string') throw new TypeError(`${NAME}: send(): 'data' must be a string`)
    out += lines('data', event.data)
  }
  return `${out}\n`
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Header values reach the env as one char per byte; a browser sends `Last-Event-ID` as UTF-8.
 * Decoded when the bytes are valid UTF-8, else kept as they are.
 */
function decodeHeader(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: testing for bytes past ASCII
  if (!/[^\x00-\x7f]/.test(value) || /[^\x00-\xff]/.test(value)) return value
  try {
    return utf8.decode(Uint8Array.from(value, (c) => c.charCodeAt(0)))
  } catch {
    return value
  }
}

/** One stream's state: its writer, heartbeat timer and signal. */
class EventStream implements SseStream {
  readonly lastEventId: string | undefined
  private readonly controller = new AbortController()
  private readonly request: AbortSignal | undefined
  /** The heartbeat timer: a node (or Bun) Timeout, or the number Deno and workerd give. */
  private timer: ReturnType<typeof setTimeout> | number | undefined
  /** Writes not yet resolved: a heartbeat is not due while one is waiting. */
  private waiting = 0
  /** The handler returned or threw: later sends reject. */
  private ended = false
  private readonly settled = (): void => {
    this.waiting--
  }
  private readonly failed = (err: unknown): void => {
    this.waiting--
    this.stop(this.request?.aborted ? this.request.reason : err)
  }
  private readonly left = (): void => this.stop(this.request?.reason)
  private readonly beat = (): void => {
    if (this.waiting > 0) this.restart()
    else void this.write(HEARTBEAT)
  }

  constructor(
    private readonly writer: Writer,
    env: Env,
    private readonly heartbeat: number,
  ) {
    const last = env.HTTP_LAST_EVENT_ID
    this.lastEventId = typeof last === 'string' ? decodeHeader(last) : undefined
    const request = env['tsgix.signal']
    this.request = request instanceof AbortSignal ? request : undefined
    if (this.request?.aborted) {
      this.stop(this.request.reason)
      return
    }
    this.request?.addEventListener('abort', this.left, { once: true })
    if (heartbeat > 0) this.timer = this.schedule()
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  send(event: SseEvent): Promise<void> {
    return this.write(frame(event))
  }

  comment(text: string): Promise<void> {
    if (typeof text !== 'string') throw new TypeError(`${NAME}: comment() takes a string`)
    return this.write(`${lines('', text)}\n`)
  }

  /** The handler is done: no more heartbeats or sends; the signal aborts with `'ended'`. */
  end(): void {
    this.ended = true
    this.stop('ended')
  }

  /** Closes the writer; a close refused because the client left is no failure. */
  close(): Promise<void> {
    const request = this.request
    return this.writer.close().catch((err: unknown) => {
      if (!request?.aborted) throw err
    })
  }

  private write(text: string): Promise<void> {
    if (this.ended) return handled(Promise.reject(new Error(`${NAME}: send() after the stream ended`)))
    this.restart()
    const written = this.writer.write(text)
    this.waiting++
    written.then(this.settled, this.failed)
    return written
  }

  /** A new heartbeat timer, unref'd where timers can be (it never keeps a process alive). */
  private schedule(): ReturnType<typeof setTimeout> | number {
    const timer: unknown = setTimeout(this.beat, this.heartbeat)
    if (typeof timer === 'number') return timer
    const node = timer as ReturnType<typeof setTimeout>
    if (typeof node.unref === 'function') node.unref()
    return node
  }

  /** Starts the idle wait again: the same timer rescheduled in place where it can be, else a new one. */
  private restart(): void {
    const timer = this.timer
    if (timer === undefined) return
    if (typeof timer === 'object' && typeof timer.refresh === 'function') timer.refresh()
    else {
      clearTimeout(timer)
      this.timer = this.schedule()
    }
  }

  private stop(reason: unknown): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.request?.removeEventListener('abort', this.left)
    if (!this.controller.signal.aborted) this.controller.abort(reason)
  }
}
