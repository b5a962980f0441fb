/**
 * One request on the node server: its env and abort signal, and the state that takes the
 * application's answer (a triple, a delayed response, a writer) to the wire exactly once.
 * Validation happens before a byte is written; failures become a 500 (or an HttpError's
 * status) while the head is unsent, and a destroyed connection once it is out.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex, Readable } from 'node:stream'
import { isPromiseLike } from '../body.js'
import { validateHead } from '../headers.js'
import { errorStatus } from '../http-error.js'
import { statusText } from '../status.js'
import type { AbortReason, App, Env, HeaderList } from '../types.js'
import type { EnvConfig } from './node-env.js'
import { describeError, endUnreadBody, ResponseAbortedError, runCleanup } from './node-lifecycle.js'
import { outHeaders, transportCheck } from './node-write.js'

/** What every request of one server (or listener) shares. */
export interface ServerContext {
  readonly app: App
  readonly env: EnvConfig
  /** Milliseconds an app has to complete its response; 0 for no limit. */
  readonly requestTimeout: number
  readonly inflight: Set<Exchange>
  readonly cleanups: Set<Promise<void>>
  /** Sockets handed to apps by CONNECT, destroyed when the shutdown grace is over. */
  readonly tunnels: Set<Duplex>
  /** Set by close(): new responses go out with `Connection: close`. */
  closing: boolean
  /** Called when a request ends while closing (so idle keep-alive connections can be closed). */
  onEnded: (() => void) | undefined
}

const EMPTY = Buffer.alloc(0)
const NO_HEADERS: HeaderList = []

/** The state of one request: what was answered, what is being streamed, and whether it was aborted. */
export class Exchange {
  /** Why the request was aborted; undefined while it was not. */
  abortReason: AbortReason | undefined
  /** Made on first use of `tsgix.signal`: creating an AbortSignal costs more than a whole small response. */
  private controller: AbortController | undefined
  env!: Env
  /** The app's response (or an error answer) was taken; later ones are refused. */
  responded = false
  /** No body goes on the wire (HEAD, 1xx, 204, 304). */
  bodyless = false
  status = 200
  headers: HeaderList = NO_HEADERS
  /** The head may carry Content-Length or Transfer-Encoding (false when the plain check passed). */
  framed = true
  reason: string | undefined
  /** The head holds octets U+0080 to U+00FF: it must leave alone, as latin1 (see writeHead). */
  obsText = false
  /** The body length the app's Content-Length declares; undefined when none (or chunked). */
  declared: number | undefined
  /** Body bytes written so far, counted only while `declared` is set. */
  sent = 0
  iterator: AsyncIterator<unknown> | undefined
  source: Readable | undefined
  timer: NodeJS.Timeout | undefined
  private waiters: [() => void, (err: Error) => void][] | undefined
  /** The Writer of a streaming response was closed. */
  writerClosed = false

  /** The connection, kept: a destroyed request lets go of its socket. */
  readonly socket: Socket

  constructor(
    readonly ctx: ServerContext,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    this.socket = req.socket
  }

  /** `tsgix.signal`, made when first read (already aborted if the request was). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController()
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason)
    }
    return this.controller.signal
  }

  /** `tsgix.early_hints`: sends a 103 with `headers` while the final head is not out (HTTP/1.1 only). */
  readonly earlyHints = (headers: HeaderList): void => {
    let problem = validateHead(103, headers)
    if (problem === undefined) {
      const checked = transportCheck(headers)
      if (typeof checked === 'string') problem = checked
    }
    if (problem !== undefined) throw new TypeError(`tsgix.early_hints: ${problem}`)
    if (this.res.headersSent || this.req.httpVersion === '1.0') return
    const hints: Record<string, string | string[]> = {}
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase()
      const value = headers[i + 1]!
      const prev = hints[name]
      if (prev === undefined) hints[name] = value
      else if (Array.isArray(prev)) prev.push(value)
      else hints[name] = [prev, value]
    }
    try {
      this.res.writeEarlyHints(hints)
    } catch (err) {
      // node checks the syntax of Link values itself, in a message that names no field
      throw new TypeError(`tsgix.early_hints: invalid value for header "Link": ${(err as Error).message}`)
    }
  }

  /** Resolves on the next 'drain'; rejects when the request is aborted first. */
  waitDrain(): Promise<void> {
    if (this.waiters === undefined) {
      this.waiters = []
      this.res.on('drain', () => {
        const waiting = this.waiters
        this.waiters = []
        if (waiting) for (const [resolve] of waiting) resolve()
      })
    }
    const waiters = this.waiters
    return new Promise((resolve, reject) => waiters.push([resolve, reject]))
  }

  /**
   * Writes the stored head; `length` becomes Content-Length when the app set none. False when
   * node refused it (then a 500 went out instead). node sends a head together with a first
   * string chunk, in that chunk's encoding (UTF-8): a head holding obs-text is sent ahead on
   * its own, as latin1, so each such character is one octet whatever the body.
   */
  writeHead(length: number | undefined): boolean {
    // A plain head has neither Content-Length nor Transfer-Encoding: only the length to add.
    const headers =
      this.framed || length === undefined
        ? outHeaders(this.headers, length)[0]
        : [...this.headers, 'Content-Length', String(length)]
    const res = this.res
    try {
      if (this.reason === undefined) res.writeHead(this.status, headers)
      else res.writeHead(this.status, this.reason, headers)
    } catch (err) {
      this.invalid(`node refused the response head: ${(err as Error).message}`)
      return false
    }
    if (this.obsText && !this.bodyless) res.write(EMPTY)
    return true
  }

  /** A complete short text response (used for errors), unless a head is already out. */
  plain(status: number, text: string, extra: HeaderList): void {
    this.responded = true
    const res = this.res
    if (res.headersSent) return
    const headers = [
      'Content-Type',
      'text/plain; charset=utf-8',
      'Content-Length',
      String(Buffer.byteLength(text)),
    ]
    // The reason is given: a refused writeHead may have left the app's status message behind.
    res.writeHead(status, statusText(status), extra.length > 0 ? headers.concat(extra) : headers)
    res.end(text)
  }

  /** A response the app gave failed validation: nothing of it goes out; the client gets a 500. */
  invalid(problem: string): void {
    this.report(problem)
    this.abort('server-error')
    this.plain(500, 'Internal Server Error', [])
  }

  /** The app (or its body) failed. */
  fail(err: unknown): void {
    this.closeIterator()
    const res = this.res
    if (this.abortReason !== undefined) {
      if (!(err instanceof ResponseAbortedError)) this.report(describeError(err))
      return
    }
    if (res.writableEnded) {
      this.report(describeError(err))
      return
    }
    if (res.headersSent) {
      this.report(describeError(err))
      this.abort('server-error')
      // Flush what was written (the client should see the partial body), then cut the connection.
      const socket = res.socket
      while (socket && socket.writableCorked > 0) socket.uncork()
      res.destroy()
      return
    }
    const status = errorStatus(err) ?? 500
    if (status >= 500) {
      this.report(describeError(err))
      this.abort('server-error')
    }
    const e = err as { message?: unknown; expose?: unknown; headers?: unknown }
    const expose = typeof e.expose === 'boolean' ? e.expose : status < 500
    const text = expose && typeof e.message === 'string' && e.message !== '' ? e.message : statusText(status)
    const extra = Array.isArray(e.headers) && validateHead(status, e.headers) === undefined ? e.headers : []
    this.source?.destroy()
    this.plain(status, text, extra as HeaderList)
  }

  /** Writes one line to tsgi.errors, naming the request. */
  report(message: string): void {
    const env = this.env
    const where = env ? `${env.REQUEST_METHOD} ${env.REQUEST_URI}` : 'request'
    try {
      this.ctx.env.errors.write(`tsgi: ${where}: ${message}\n`)
    } catch {
      // an error stream that fails has nowhere to report to
    }
  }

  /** Calls `return()` on a body iterator being streamed, so its `finally` blocks run. */
  closeIterator(): void {
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
    if (this.abortReason !== undefined || this.res.writableFinished) return
    this.abortReason = reason
    this.controller?.abort(reason)
    this.closeIterator()
    this.source?.destroy()
    const waiting = this.waiters
    this.waiters = undefined
    if (waiting) for (const [, reject] of waiting) reject(new ResponseAbortedError(reason))
  }

  /** The response is done or the connection is gone: abort if unfinished, then run cleanup handlers. */
  onClose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (!this.res.writableFinished) this.abort('client-disconnected')
    else endUnreadBody(this.req, this.socket)
    const ctx = this.ctx
    ctx.inflight.delete(this)
    const handlers = this.env['tsgix.cleanup.handlers']
    if (!Array.isArray(handlers) || handlers.length > 0)
      runCleanup(ctx, this.env, (message) => this.report(message))
    if (ctx.closing) ctx.onEnded?.()
  }
}
