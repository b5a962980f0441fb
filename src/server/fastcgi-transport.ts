/**
 * The FastCGI transport of the response pipeline: one request of a FastCGI connection. The
 * head goes out as CGI response headers (`Status:` first) on the request's stdout stream, the
 * body as stdout records of at most 65,535 bytes, and the end as an empty stdout record and
 * FCGI_END_REQUEST. The front end frames the body for its client: an app's
 * `Transfer-Encoding` and the connection's own fields are dropped, `Content-Length` is kept;
 * a `Status` field is refused (the front end would take it for the status).
 */
import type { Chunk, Env, HeaderList } from '../types.js'
import { cgiHead } from './cgi-head.js'
import {
  endRequest,
  MAX_CONTENT,
  padding,
  REQUEST_COMPLETE,
  recordHeader,
  STDOUT,
} from './fastcgi-records.js'
import type { Transport, TransportEvents } from './transport.js'

/** What a request's transport needs of its connection. */
export interface FastCgiLink {
  /** Writes bytes of the connection; false when the caller should wait for `drained`. */
  write(data: Uint8Array): boolean
  /** Tells `transport` every time the connection can take more, until its request is finished. */
  watchDrain(transport: FastCgiTransport): void
  /** The request is over on the connection (its END_REQUEST written, or it was cut). */
  finished(requestId: number, keepConn: boolean): void
  /** Cuts the response: the connection closes, unless other requests share it. */
  cut(requestId: number): void
  /** Closes the connection once its requests are done (a server shutting down). */
  closeAfter(): void
}

/** The transport of one FastCGI request. */
export class FastCgiTransport implements Transport {
  headSent = false
  ended = false
  finished = false
  gone = false
  /** The request's stdin has ended (or was given up). */
  inputDone = false
  private events!: TransportEvents
  private watched = false

  constructor(
    private readonly link: FastCgiLink,
    readonly requestId: number,
    private readonly keepConn: boolean,
  ) {}

  attach(events: TransportEvents): void {
    this.events = events
  }

  watchClose(): void {
    this.watched = true
    // a response that ended before it was watched (its stdin still coming) is over already
    if (this.finished || this.gone) this.done()
  }

  inputPending(_env: Env): boolean {
    return !this.inputDone
  }

  head(
    status: number,
    reason: string | undefined,
    headers: HeaderList,
    length: number | undefined,
    flags: number,
  ): string | undefined {
    const head = cgiHead(status, reason, headers, length, flags, 'FastCGI')
    if (typeof head === 'string') return head
    this.headSent = true
    // obs-text stays one octet per character, as it does on HTTP/1.1
    this.stdout(Buffer.from(`${head.lines}\r\n`, 'latin1'))
    return undefined
  }

  flush(): void {
    // every write goes to the connection at once
  }

  /** Writes `data` as stdout records; false when the connection asks to wait. */
  private stdout(data: Uint8Array): boolean {
    const link = this.link
    let ok = true
    for (let at = 0; at < data.length; at += MAX_CONTENT) {
      const part = data.subarray(at, Math.min(at + MAX_CONTENT, data.length))
      link.write(recordHeader(STDOUT, this.requestId, part.length))
      ok = link.write(part)
      const pad = padding(part.length)
      if (pad.length > 0) ok = link.write(pad)
    }
    return ok
  }

  write(chunk: Chunk): boolean {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    return this.stdout(bytes)
  }

  watchDrain(): void {
    this.link.watchDrain(this)
  }

  /** The connection can take more. */
  drained(): void {
    this.events.drained()
  }

  end(chunks?: readonly Chunk[]): void {
    if (chunks !== undefined) for (const chunk of chunks) this.write(chunk)
    this.ended = true
    const link = this.link
    link.write(recordHeader(STDOUT, this.requestId, 0))
    link.write(endRequest(this.requestId, 0, REQUEST_COMPLETE))
    this.finished = true
    link.finished(this.requestId, this.keepConn)
    this.done()
  }

  destroy(): void {
    if (this.finished || this.gone) return
    this.gone = true
    this.link.cut(this.requestId)
    this.done()
  }

  closeAfter(): void {
    this.link.closeAfter()
  }

  earlyHints(): void {
    // a FastCGI front end has no way to pass a 103 on
  }

  /** The front end aborted the request, or the connection is gone. */
  lost(): void {
    if (this.finished || this.gone) return
    this.gone = true
    this.events.closed()
  }

  private done(): void {
    if (this.watched) queueMicrotask(() => this.events.closed())
  }
}
