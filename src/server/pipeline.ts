/**
 * The response pipeline every server runs, whatever its transport: it calls the app and
 * rescues failures, takes a triple or a delayed response (and serves its Writer), validates
 * the head before a byte goes out, decides the framing (HEAD and bodyless statuses, the
 * Content-Length of arrays and files, the declared length a body must match), sends every body
 * kind with backpressure, and owns `tsgix.signal`, the request timeout and the cleanup
 * handlers. A {@link Transport} only carries bytes.
 *
 * Failures become a 500 (or an error's status) while the head is unsent, and a response that
 * cannot look complete once it is out. One {@link Exchange} holds one request's state and is
 * changed only through its methods.
 */
import { close, createReadStream, fstat, open, read } from 'node:fs'
import type { Readable } from 'node:stream'
import { chunkLength, discardBody, isChunk, isFileBody, isPromiseLike } from '../body.js'
import { validateHead } from '../headers.js'
import { errorStatus } from '../http-error.js'
import { statusText, statusWithNoEntityBody } from '../status.js'
import type {
  AbortReason,
  App,
  AppResult,
  Chunk,
  Delayed,
  Env,
  ErrorStream,
  FileBody,
  HeaderList,
  Responder,
  Writer,
} from '../types.js'
import { lengthMismatch } from './framing.js'
import { checkHead, checkReason, isPlainHead, measureArray, typeName, wireValues } from './response-check.js'
import {
  HEAD_BODYLESS,
  HEAD_HOLD,
  HEAD_NONE,
  HEAD_OBS_TEXT,
  HEAD_PLAIN,
  type Transport,
  type TransportEvents,
} from './transport.js'
import type { Handshake, Session, SessionOwner } from './websocket.js'

/** The error Writer.write/close reject with once the request was aborted; its message names the reason. */
export class ResponseAbortedError extends Error {
  readonly reason: unknown
  constructor(reason: unknown) {
    super(`tsgi: response aborted (${String(reason)})`)
    this.name = 'ResponseAbortedError'
    this.reason = reason
  }
}

/** What every request of one server (or listener, or fetch handler) shares. */
export interface PipelineContext {
  readonly app: App
  /** Where the server's own messages go (the server's `errors` option). */
  readonly errors: ErrorStream
  /** Milliseconds an app has to complete its response; 0 for no limit. */
  readonly requestTimeout: number
  readonly inflight: Set<Exchange>
  readonly cleanups: Set<Promise<void>>
  /** Set by a graceful close: new responses close their connection. */
  closing: boolean
  /** Called when a request ends while closing (so idle connections can be closed). */
  onEnded: (() => void) | undefined
}

/** A fresh context for `app`. */
export function pipelineContext(app: App, errors: ErrorStream, requestTimeout: number): PipelineContext {
  return {
    app,
    errors,
    requestTimeout,
    inflight: new Set(),
    cleanups: new Set(),
    closing: false,
    onEnded: undefined,
  }
}

/** The `Symbol.asyncIterator` method of a body, if it has one. */
function asyncIteratorOf(body: unknown): unknown {
  if (body === null || (typeof body !== 'object' && typeof body !== 'function')) return undefined
  return (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator]
}

/** Files (and ranges) up to this many bytes are read whole and sent in one write. */
const SMALL_FILE = 128 * 1024

/** A settled promise shared by writes that need not wait. */
const RESOLVED = Promise.resolve()
const NO_HEADERS: HeaderList = []

function ignore(): void {}

/** A promise rejected with `err` that never counts as unhandled (the app may not await it). */
export function rejected(err: Error): Promise<void> {
  const p = Promise.reject(err)
  p.catch(ignore)
  return p
}

/** An error's stack (or a description of a non-error) for tsgi.errors. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`
  return `non-error thrown: ${typeName(err)} ${String(err)}`
}

/** An error in one short line: what a client that left costs on tsgi.errors. */
function shortError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  const line = text.split('\n', 1)[0] ?? ''
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}

/** Where the lazy `tsgix.signal` of an env comes from. */
const SIGNAL_SOURCE = Symbol('tsgi.signalSource')

/**
 * `tsgix.signal` as one accessor shared by every env: the signal is made when first read
 * (an AbortSignal costs more than a small response), and assigning the key replaces it with a
 * plain value. Shared functions keep every env on one hidden class; per-request closures would
 * give each env its own, and send them all through the old generation.
 */
const SIGNAL_PROPERTY: PropertyDescriptor = {
  get(this: Record<symbol, { readonly signal: AbortSignal }>): AbortSignal {
    return this[SIGNAL_SOURCE]!.signal
  },
  set(this: object, value: unknown) {
    Object.defineProperty(this, 'tsgix.signal', {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    })
  },
  enumerable: true,
  configurable: true,
}

/** Gives `env` its `tsgix.signal`, read from `source` when the app first reads it. */
export function defineSignal(env: Env, source: { readonly signal: AbortSignal }): void {
  ;(env as unknown as Record<symbol, unknown>)[SIGNAL_SOURCE] = source
  Object.defineProperty(env, 'tsgix.signal', SIGNAL_PROPERTY)
}

/** The Writer of a streaming response. */
class ExchangeWriter implements Writer {
  constructor(private readonly ex: Exchange) {}
  write(chunk: Chunk): Promise<void> {
    return this.ex.writerWrite(chunk)
  }
  close(): Promise<void> {
    return this.ex.writerClose()
  }
}

/** The writer of a response that was refused: writes reject, close does nothing. */
function deadWriter(err: Error): Writer {
  return { write: () => rejected(err), close: () => RESOLVED }
}

/** The writer of a `101`: the connection carries WebSocket messages, not a body. */
const SWITCHED_WRITER = deadWriter(
  new TypeError('tsgi: a 101 response has no body: the connection switched protocols'),
)

/** One request in the pipeline: what was answered, what is being streamed, whether it was aborted. */
export class Exchange implements TransportEvents, SessionOwner {
  /** Why the request was aborted; undefined while it was not. */
  abortReason: AbortReason | undefined
  /** Made on first use of `tsgix.signal`: creating an AbortSignal costs more than a whole small response. */
  private controller: AbortController | undefined
  env: Env | undefined
  /** The app's response (or an error answer) was taken; later ones are refused. */
  private responded = false
  /** The request's method is HEAD (as it arrived: middleware may rewrite REQUEST_METHOD). */
  private headRequest = false
  /** No body goes on the wire (HEAD, 1xx, 204, 304). */
  private bodyless = false
  private status = 200
  private headers: HeaderList = NO_HEADERS
  private flags = HEAD_NONE
  private reason: string | undefined
  /** The body length the app's Content-Length declares; undefined when none (or chunked). */
  private declared: number | undefined
  /** Body bytes written so far, counted only while `declared` is set. */
  private sent = 0
  private iterator: AsyncIterator<unknown> | undefined
  private source: Readable | undefined
  private timer: NodeJS.Timeout | undefined
  private waiters: [() => void, (err: Error) => void][] | undefined
  /** The Writer of a streaming response was closed. */
  private writerClosed = false
  /** The transport reported the end of the response: `closed` runs once. */
  private over = false
  /** `tsgix.websocket` of a WebSocket handshake, set by the transport before the app runs. */
  handshake: Handshake | undefined
  /** The app may take the connection over (an upgrade request): no request timeout applies. */
  mayTakeOver = false
  /** The connection switched protocols: the response is the session's now. */
  private switched = false
  private session: Session | undefined

  constructor(
    readonly ctx: PipelineContext,
    readonly transport: Transport,
  ) {
    transport.attach(this)
  }

  /** `tsgix.signal`, made when first read (already aborted if the request was). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController()
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason)
    }
    return this.controller.signal
  }

  /**
   * Runs the app on `env`. A response that ends before the app's call returns, with nothing
   * left to follow (no signal made, no cleanup handler, no request body still coming), is done
   * at once: it is never tracked, timed or watched, the common case costing nothing more.
   */
  run(env: Env): void {
    this.env = env
    this.headRequest = env.REQUEST_METHOD === 'HEAD'
    const ctx = this.ctx
    if (ctx.closing) this.transport.closeAfter()
    let result: AppResult | PromiseLike<AppResult>
    try {
      result = ctx.app(env)
      if (isPromiseLike<AppResult>(result)) {
        this.watch()
        result.then(
          (r) => this.accept(r),
          (err: unknown) => this.fail(err),
        )
        return
      }
      this.accept(result)
    } catch (err) {
      this.fail(err)
    }
    if (!this.doneAtOnce(env)) this.watch()
  }

  /** True when the response ended during the app's call and nothing of the exchange can follow. */
  private doneAtOnce(env: Env): boolean {
    if (!this.transport.ended || this.controller !== undefined) return false
    const handlers = env['tsgix.cleanup.handlers']
    if (!Array.isArray(handlers) || handlers.length > 0) return false
    if (this.transport.inputPending(env)) return false
    this.over = true
    if (this.ctx.closing) this.ctx.onEnded?.()
    return true
  }

  /** Follows the response to its end: tracked for shutdown, timed, and told of the connection's close. */
  private watch(): void {
    const ctx = this.ctx
    ctx.inflight.add(this)
    if (ctx.requestTimeout > 0 && !this.mayTakeOver)
      this.timer = setTimeout(onTimeout, ctx.requestTimeout, this)
    this.transport.watchClose()
  }

  /** `tsgix.early_hints`: sends a 103 with `headers` while the final head is not out. */
  readonly earlyHints = (headers: HeaderList): void => {
    let problem = validateHead(103, headers)
    if (problem === undefined) {
      const checked = wireValues(headers)
      if (typeof checked === 'string') problem = checked
    }
    if (problem !== undefined) throw new TypeError(`tsgix.early_hints: ${problem}`)
    if (!this.transport.headSent) this.transport.earlyHints(headers)
  }

  /** Takes what the app returned. */
  private accept(result: unknown): void {
    if (Array.isArray(result)) this.respondTriple(result)
    else if (typeof result === 'function') this.runDelayed(result as Delayed)
    else
      this.fail(
        new TypeError(`app returned ${typeName(result)}: expected [status, headers, body] or a function`),
      )
  }

  private runDelayed(delayed: Delayed): void {
    const responder = ((r: unknown) => this.respond(r)) as Responder
    try {
      const ran = delayed(responder)
      if (isPromiseLike(ran)) ran.then(undefined, (err: unknown) => this.fail(err))
    } catch (err) {
      this.fail(err)
    }
  }

  /**
   * The responder of a delayed response. A second call throws (spec 4.4) unless the request was
   * aborted: output after an abort is discarded. Other misuse is reported and answered.
   */
  private respond(r: unknown): Writer | undefined {
    if (this.responded && this.abortReason === undefined) {
      if (Array.isArray(r)) void discardBody(r[2])
      throw new Error('tsgi: respond() called twice')
    }
    if (Array.isArray(r) && r.length >= 3) {
      this.respondTriple(r)
      return undefined
    }
    if (!Array.isArray(r) || r.length !== 2) {
      this.fail(
        new TypeError(`respond() takes [status, headers, body] or [status, headers], got ${typeName(r)}`),
      )
      return deadWriter(new Error('tsgi: respond() was called with an invalid response'))
    }
    return this.startWriter(r[0], r[1])
  }

  /** False (and the body freed) when a response was already taken or the request is aborted. */
  private take(body: unknown): boolean {
    if (this.abortReason !== undefined) {
      void discardBody(body)
      return false
    }
    if (this.responded) {
      void discardBody(body)
      this.report('respond() called after a response was already given; ignored')
      return false
    }
    this.responded = true
    return true
  }

  /** Checks the head and stores it; a message on failure. */
  private setHead(status: unknown, headers: unknown): string | undefined {
    let flags = HEAD_NONE
    let declared: number | undefined
    if (isPlainHead(status, headers)) flags = HEAD_PLAIN
    else {
      const checked = checkHead(status, headers)
      if (typeof checked === 'string') return checked
      if (checked.obsText) flags = HEAD_OBS_TEXT
      declared = checked.declared
    }
    const reason = this.env!['tsgix.reason_phrase']
    if (reason !== undefined) {
      const checked = checkReason(reason)
      if (typeof checked === 'string') return checked
      if (checked) flags |= HEAD_OBS_TEXT
    }
    this.status = status as number
    this.headers = headers as HeaderList
    this.reason = reason as string | undefined
    this.bodyless = statusWithNoEntityBody(this.status) || this.headRequest
    if (this.bodyless) flags |= HEAD_BODYLESS
    this.flags = flags
    this.declared = this.bodyless ? undefined : declared
    return undefined
  }

  /** Writes the stored head; `length` becomes Content-Length when the app set none. False when refused. */
  private writeHead(length: number | undefined, hold = false): boolean {
    const problem = this.transport.head(
      this.status,
      this.reason,
      this.headers,
      statusWithNoEntityBody(this.status) ? undefined : length,
      hold ? this.flags | HEAD_HOLD : this.flags,
    )
    if (problem === undefined) return true
    this.invalid(problem)
    return false
  }

  private respondTriple(triple: unknown[]): void {
    const [status, headers, body] = triple
    if (!this.take(body)) return
    let problem = this.setHead(status, headers)
    let length: number | string | undefined
    // An iterable body's method, looked up once: on a generator made per request (a new
    // prototype each time) every lookup misses V8's caches and walks the prototype chain.
    let iterate: unknown
    if (problem === undefined) {
      if (Array.isArray(body)) length = measureArray(body)
      else {
        iterate = asyncIteratorOf(body)
        if (typeof iterate !== 'function')
          problem = `invalid body: expected an array, an async iterable or a FileBody, got ${typeName(body)}`
      }
      if (typeof length === 'string') problem = length
      else if (length !== undefined && this.declared !== undefined && this.declared !== length)
        problem = lengthMismatch(this.declared, length)
    }
    if (problem !== undefined) {
      void discardBody(body)
      this.invalid(problem)
      return
    }
    if (this.status === 101) {
      void discardBody(body)
      this.switchProtocols()
      return
    }
    if (typeof length === 'number') {
      if (this.writeHead(length)) this.transport.end(this.bodyless ? undefined : (body as Chunk[]))
    } else if (isFileBody(body) && !statusWithNoEntityBody(this.status)) {
      // measured even for HEAD, whose head then carries the file's length
      this.sendFile(body)
    } else if (this.bodyless) {
      void discardBody(body)
      if (this.writeHead(undefined)) this.transport.end()
    } else void this.streamIterable(body, iterate as () => AsyncIterator<unknown>)
  }

  private startWriter(status: unknown, headers: unknown): Writer {
    if (!this.take(undefined)) {
      const reason = this.abortReason
      return deadWriter(
        reason !== undefined ? new ResponseAbortedError(reason) : new Error('tsgi: respond() called twice'),
      )
    }
    const problem = this.setHead(status, headers)
    if (problem !== undefined) {
      this.invalid(problem)
      return deadWriter(new Error(`tsgi: ${problem}`))
    }
    if (this.status === 101) return this.switchProtocols()
    if (!this.writeHead(undefined)) return deadWriter(new Error('tsgi: the response head was refused'))
    if (this.bodyless) this.transport.end()
    else this.transport.flush()
    return new ExchangeWriter(this)
  }

  /**
   * A `101` (through the middleware, with their fields): switches the connection to the
   * WebSocket session the app accepted. Without an accepted handshake it is an invalid
   * response; while the server shuts down the handshake gets 503.
   */
  private switchProtocols(): Writer {
    const handshake = this.handshake
    if (handshake?.accepted === undefined) {
      const problem = 'invalid status 101: only tsgix.websocket.accept() switches protocols'
      this.invalid(problem)
      return deadWriter(new Error(`tsgi: ${problem}`))
    }
    if (this.ctx.closing) {
      this.plain(503, ['Connection', 'close'])
      return deadWriter(new Error('tsgi: the server is shutting down'))
    }
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    this.switched = true
    handshake.switchTo(this, this.headers)
    return SWITCHED_WRITER
  }

  /** The WebSocket session runs: shutdown and cuts go to it. */
  sessionStarted(session: Session): void {
    this.session = session
  }

  /** The WebSocket session ended: lost ones abort `tsgix.signal`; cleanup handlers run. */
  sessionEnded(reason: AbortReason | undefined): void {
    if (this.over) return
    if (reason !== undefined) this.abort(reason)
    this.session = undefined
    this.release()
  }

  /** The switch could not start (`ws` is missing): the handshake is answered as a failure. */
  switchFailed(err: unknown): void {
    this.switched = false
    this.fail(err)
  }

  /** A failing WebSocket handler, or what `ws` reports on a connection. */
  sessionProblem(problem: unknown): void {
    this.report(typeof problem === 'string' ? problem : `WebSocket handler failed: ${describeError(problem)}`)
  }

  /** Counts `chunk` against the declared length: a message when the body outgrows it. */
  private count(chunk: Chunk): string | undefined {
    if (this.declared === undefined) return undefined
    this.sent += chunkLength(chunk)
    return this.sent > this.declared ? lengthMismatch(this.declared, this.sent, true) : undefined
  }

  /** The message of a body that ended short of its declared length, else undefined. */
  private shortBody(): string | undefined {
    const declared = this.declared
    return declared !== undefined && this.sent !== declared ? lengthMismatch(declared, this.sent) : undefined
  }

  /**
   * Streams an async-iterable body: the head goes out with the first non-empty chunk (so a body
   * that fails before it still gets a clean 500), and the next chunk is pulled only once the
   * transport took the last one.
   */
  private async streamIterable(body: unknown, iterate: () => AsyncIterator<unknown>): Promise<void> {
    const transport = this.transport
    let it: AsyncIterator<unknown>
    let next: AsyncIterator<unknown>['next']
    try {
      it = iterate.call(body)
      next = it.next
    } catch (err) {
      this.fail(err)
      return
    }
    this.iterator = it
    try {
      for (;;) {
        const step = await next.call(it)
        if (this.abortReason !== undefined) return
        if (step.done) break
        const chunk = step.value
        if (!isChunk(chunk)) {
          this.closeIterator()
          throw new TypeError(`invalid body chunk: expected a string or Uint8Array, got ${typeName(chunk)}`)
        }
        if (chunk.length === 0) continue
        const long = this.count(chunk)
        if (long !== undefined) {
          this.closeIterator()
          throw new Error(long)
        }
        if (!transport.headSent && !this.writeHead(undefined, true)) return
        if (!transport.write(chunk)) await this.waitDrain()
      }
      const short = this.shortBody()
      if (short !== undefined) throw new Error(short)
    } catch (err) {
      this.iterator = undefined
      if (this.abortReason === undefined) this.fail(err)
      return
    }
    this.iterator = undefined
    if (!transport.headSent && !this.writeHead(undefined)) return
    transport.end()
  }

  /** Sends a file (or its `start..end` range, inclusive): opened and measured before the head goes out. */
  private sendFile(body: FileBody): void {
    open(body.path, 'r', (err, fd) => {
      if (err) return this.fail(err)
      // A small body of a known length (a range, or the app's Content-Length, as File sets it)
      // is read without measuring the file first: the reads themselves show a file that no
      // longer has that length.
      const known = body.end !== undefined ? body.end - (body.start ?? 0) + 1 : this.declared
      if (known !== undefined && known > 0 && known <= SMALL_FILE && !this.bodyless) {
        this.sendSmallFile(fd, body.start ?? 0, known, body.end === undefined)
        return
      }
      fstat(fd, (statErr, stat) => {
        if (statErr || !stat.isFile() || this.abortReason !== undefined) {
          close(fd, ignore)
          if (statErr) this.fail(statErr)
          else if (this.abortReason === undefined)
            this.fail(new Error(`FileBody ${body.path} is not a regular file`))
          return
        }
        const start = body.start ?? 0
        const last = Math.min(body.end ?? stat.size - 1, stat.size - 1)
        const length = Math.max(0, last - start + 1)
        const declared = this.declared
        if (declared !== undefined && declared !== length) {
          close(fd, ignore)
          this.invalid(lengthMismatch(declared, length))
          return
        }
        if (length > 0 && length <= SMALL_FILE && !this.bodyless) {
          this.sendSmallFile(fd, start, length, false)
          return
        }
        if (!this.writeHead(length)) {
          close(fd, ignore)
          return
        }
        if (length === 0 || this.bodyless) {
          close(fd, ignore)
          this.transport.end()
          return
        }
        const stream = createReadStream('', { fd, start, end: last, highWaterMark: 64 * 1024 })
        this.source = stream
        stream.on('error', (readErr) => this.fail(readErr))
        // The length is known and matched: counting again would only cost.
        this.declared = undefined
        if (this.transport.pipe) this.transport.pipe(stream)
        else void this.streamIterable(stream, stream[Symbol.asyncIterator])
      })
    })
  }

  /**
   * A small file (or range) of `length` bytes read whole before the head, then sent with it in
   * one write: no stream to set up, and a file that fails or has another length than the head
   * would say still gets a clean 500. With `toEnd` the file must end there: one byte more is
   * asked for, and one found means it is longer; without it (a range) a file that ends sooner
   * cuts the range at its end. The memory held is bounded by
   * {@link SMALL_FILE} per response.
   */
  private sendSmallFile(fd: number, start: number, length: number, toEnd: boolean): void {
    const want = toEnd ? length + 1 : length
    const buffer = Buffer.allocUnsafe(want)
    const readAt = (offset: number): void => {
      read(fd, buffer, offset, want - offset, start + offset, (err, n) => {
        if (err || this.abortReason !== undefined) {
          close(fd, ignore)
          if (err && this.abortReason === undefined) this.fail(err)
          return
        }
        // A read of a regular file that returns less than asked has reached its end; only the
        // probe byte of `toEnd` may be missing then, without another read to find it.
        if (n > 0 && offset + n < length) return readAt(offset + n)
        close(fd, ignore)
        const got = offset + n
        // a range ending past the file is cut at its end, as a measured one is
        const sent = toEnd ? length : got
        const declared = this.declared
        if (toEnd ? got !== length : declared !== undefined && declared !== got) {
          this.invalid(lengthMismatch(declared ?? length, got, got > length))
          return
        }
        if (!this.writeHead(sent)) return
        if (sent === 0) this.transport.end()
        else this.transport.end([sent === want ? buffer : buffer.subarray(0, sent)])
      })
    }
    readAt(0)
  }

  /** A writer's `write`. */
  writerWrite(chunk: Chunk): Promise<void> {
    if (this.abortReason !== undefined) return rejected(new ResponseAbortedError(this.abortReason))
    if (this.writerClosed) return rejected(new Error('tsgi: write() after close()'))
    if (!isChunk(chunk))
      return rejected(new TypeError(`tsgi: write() takes a string or Uint8Array, got ${typeName(chunk)}`))
    if (this.bodyless || chunk.length === 0) return RESOLVED
    const long = this.count(chunk)
    if (long !== undefined) return this.failWriter(long)
    return this.transport.write(chunk) ? RESOLVED : this.waitDrain()
  }

  /** A writer's `close`: ends the body; rejects when it is shorter than its Content-Length. */
  writerClose(): Promise<void> {
    if (this.abortReason !== undefined || this.writerClosed) return RESOLVED
    this.writerClosed = true
    const short = this.shortBody()
    if (short !== undefined) return this.failWriter(short)
    if (!this.transport.ended) this.transport.end()
    return RESOLVED
  }

  /** The writer's body broke its Content-Length: the response fails (it cannot look complete). */
  private failWriter(message: string): Promise<void> {
    const err = new Error(`tsgi: ${message}`)
    this.fail(err)
    return rejected(err)
  }

  /** Resolves on the transport's next `drained`; rejects when the request is aborted first. */
  private waitDrain(): Promise<void> {
    if (this.waiters === undefined) {
      this.waiters = []
      this.transport.watchDrain()
    }
    const waiters = this.waiters
    return new Promise((resolve, reject) => waiters.push([resolve, reject]))
  }

  /** The transport can take more. */
  drained(): void {
    const waiting = this.waiters
    if (waiting === undefined || waiting.length === 0) return
    this.waiters = []
    for (const [resolve] of waiting) resolve()
  }

  /**
   * The server's own answer (an error): `status` with its standard phrase as the text body,
   * unless a head is already out or the client is gone.
   */
  plain(status: number, extra: HeaderList = NO_HEADERS): void {
    this.responded = true
    const transport = this.transport
    if (transport.headSent || transport.gone) return
    const headers = ['Content-Type', 'text/plain; charset=utf-8']
    const all = extra.length > 0 ? headers.concat(extra) : headers
    const text = statusText(status)
    const noEntity = statusWithNoEntityBody(status)
    const flags = this.headRequest || noEntity ? HEAD_PLAIN | HEAD_BODYLESS : HEAD_PLAIN
    // A transport that refuses even this has nothing left to send: the connection is cut.
    if (
      transport.head(status, text, all, noEntity ? undefined : Buffer.byteLength(text), flags) !== undefined
    )
      transport.destroy()
    else transport.end(flags & HEAD_BODYLESS ? undefined : [text])
  }

  /** A response the app gave failed validation: nothing of it goes out; the client gets a 500. */
  invalid(problem: string): void {
    this.report(problem)
    this.abort('server-error')
    this.plain(500)
  }

  /** The app (or its body) failed. */
  fail(err: unknown): void {
    this.closeIterator()
    if (this.switched) {
      this.report(describeError(err))
      return
    }
    const transport = this.transport
    if (this.abortReason === undefined && transport.gone && !transport.finished) {
      // The connection went and the app's reading or writing failed for it: one short line.
      this.abort(transport.lostReason ?? 'client-disconnected')
    }
    if (this.abortReason !== undefined) {
      if (err instanceof ResponseAbortedError) return
      const reason = this.abortReason
      this.report(
        reason === 'client-disconnected' || transport.lostReason === reason
          ? `after the connection closed (${reason}): ${shortError(err)}`
          : describeError(err),
      )
      return
    }
    if (transport.ended) {
      this.report(describeError(err))
      return
    }
    if (transport.headSent) {
      this.report(describeError(err))
      this.abort('server-error')
      transport.destroy()
      return
    }
    const status = errorStatus(err) ?? 500
    if (status >= 500) {
      this.report(describeError(err))
      this.abort('server-error')
    }
    const extra = (err as { headers?: unknown } | null)?.headers
    this.source?.destroy()
    this.plain(
      status,
      // An error's own headers go out only when they are plainly valid (and frame nothing).
      isPlainHead(status, extra) ? (extra as HeaderList) : NO_HEADERS,
    )
  }

  /** Writes one line to the server's error stream, naming the request. */
  report(message: string): void {
    const env = this.env
    const where = env ? `${env.REQUEST_METHOD} ${env.REQUEST_URI}` : 'request'
    try {
      this.ctx.errors.write(`tsgi: ${where}: ${message}\n`)
    } catch {
      // an error stream that fails has nowhere to report to
    }
  }

  /** Calls `return()` on a body iterator being streamed, so its `finally` blocks run. */
  private closeIterator(): void {
    const it = this.iterator
    this.iterator = undefined
    if (it === undefined || typeof it.return !== 'function') return
    try {
      const done = it.return()
      if (isPromiseLike(done)) done.then(undefined, (err: unknown) => this.report(describeError(err)))
    } catch (err) {
      this.report(describeError(err))
    }
  }

  /** Aborts `tsgix.signal` unless the response completed or it already aborted. */
  abort(reason: AbortReason): void {
    if (this.abortReason !== undefined || this.transport.finished) return
    this.abortReason = reason
    this.controller?.abort(reason)
    this.closeIterator()
    this.source?.destroy()
    const waiting = this.waiters
    this.waiters = undefined
    if (waiting) for (const [, reject] of waiting) reject(new ResponseAbortedError(reason))
  }

  /** Ends the request now: aborts it with `reason` and cuts its connection (shutdown, timeouts). */
  cut(reason: AbortReason): void {
    const session = this.session
    if (session !== undefined) session.terminate(reason)
    else {
      this.abort(reason)
      this.transport.destroy()
    }
  }

  /** The server began to shut down: the connection closes after this response; a WebSocket session is asked to close (1001). */
  shutdown(): void {
    if (this.session !== undefined) this.session.goAway()
    else this.transport.closeAfter()
  }

  /** The request timeout fired: 503 while the head is unsent, else the response is cut. */
  timeout(): void {
    this.timer = undefined
    const transport = this.transport
    if (transport.finished) return
    this.abort('timeout')
    if (transport.headSent) transport.destroy()
    else {
      transport.closeAfter()
      this.plain(503, ['Connection', 'close'])
    }
  }

  /** The response is done or the connection is gone: abort if unfinished, then run cleanup handlers. */
  closed(): void {
    if (this.over || this.switched) return
    if (!this.transport.finished) this.abort(this.transport.lostReason ?? 'client-disconnected')
    this.release()
  }

  /** The exchange is over: untracked, untimed, its cleanup handlers run. */
  private release(): void {
    this.over = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    const ctx = this.ctx
    ctx.inflight.delete(this)
    const env = this.env
    const handlers = env?.['tsgix.cleanup.handlers']
    if (env !== undefined && (!Array.isArray(handlers) || handlers.length > 0)) {
      const transport = this.transport
      runCleanup(ctx, env, (message) => this.report(message), transport.waitUntil?.bind(transport))
    }
    if (ctx.closing) ctx.onEnded?.()
  }
}

/**
 * Runs `tsgix.cleanup.handlers` in order, each awaited; failures are reported, not thrown. The
 * run is tracked in `ctx.cleanups` (a graceful close waits for it) and given to `waitUntil`.
 */
export function runCleanup(
  ctx: PipelineContext,
  env: Env,
  report: (message: string) => void,
  waitUntil?: (work: Promise<unknown>) => void,
): void {
  const handlers = env['tsgix.cleanup.handlers']
  if (!Array.isArray(handlers) || handlers.length === 0) return
  const run = (async () => {
    for (const handler of handlers) {
      try {
        if (typeof handler !== 'function') throw new TypeError(`cleanup handler is ${typeName(handler)}`)
        await handler(env)
      } catch (err) {
        report(`cleanup handler failed: ${describeError(err)}`)
      }
    }
  })()
  ctx.cleanups.add(run)
  run.then(() => ctx.cleanups.delete(run))
  waitUntil?.(run)
}

function onTimeout(ex: Exchange): void {
  ex.timeout()
}
