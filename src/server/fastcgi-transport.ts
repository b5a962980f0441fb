/**
 * The FastCGI transport of the response pipeline: one request of a FastCGI connection. The
 * head goes out as CGI response headers (`Status:` first) on the request's stdout stream, the
 * body as stdout records of at most 65,535 bytes, and the end as an empty stdout record and
 * FCGI_END_REQUEST. The front end frames the body for its client: an app's
 * `Transfer-Encoding` and the connection's own fields are dropped, `Content-Length` is kept;
 * a `Status` field is refused (the front end would take it for the status).
 *
 * The head is held until the body's first bytes: a head and a small body (up to 16 KiB) go in
 * one stdout record, and with the end of the request (the empty stdout record and
 * FCGI_END_REQUEST) in one buffer, one write; a small streamed chunk is one buffer too. Fewer
 * writes and records cost both this server and the front end less per request.
 */
import type { Chunk, Env, HeaderList } from '../types.js'
import { cgiHead } from './cgi-head.js'
import {
  END_REQUEST_LENGTH,
  MAX_CONTENT,
  padding,
  REQUEST_COMPLETE,
  recordHeader,
  STDOUT,
  writeEndRequest,
  writeRecordHeader,
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

/** Body bytes that are copied into the buffer of the head (or of the record header) rather than written apart. */
const PACK_LIMIT = 16 * 1024
/** The end of a request: an empty stdout record and FCGI_END_REQUEST. */
const END_LENGTH = 8 + END_REQUEST_LENGTH
const NO_CHUNKS: readonly Chunk[] = []

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
  /** The head's lines, held until the body's first bytes (or the end, or a flush) go with them. */
  private held: string | undefined

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
    this.held = `${head.lines}\r\n`
    return undefined
  }

  flush(): void {
    const held = this.held
    if (held === undefined) return
    this.held = undefined
    // obs-text stays one octet per character, as it does on HTTP/1.1
    this.stdout(Buffer.from(held, 'latin1'))
  }

  /**
   * One buffer: a stdout record of the held head and `chunks` (none when both are empty), then
   * with `last` the end of the request. Undefined, and nothing taken, when the chunks pass
   * {@link PACK_LIMIT} or the record would pass {@link MAX_CONTENT}.
   */
  private pack(chunks: readonly Chunk[], last: boolean): Buffer | undefined {
    const head = this.held ?? ''
    let body = 0
    for (const chunk of chunks)
      body += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
    const length = head.length + body
    if (body > PACK_LIMIT || length > MAX_CONTENT) return undefined
    this.held = undefined
    const record = length === 0 ? 0 : 8 + length + padding(length).length
    const out = Buffer.allocUnsafe(record + (last ? END_LENGTH : 0))
    if (length > 0) {
      writeRecordHeader(out, 0, STDOUT, this.requestId, length)
      // obs-text stays one octet per character, as it does on HTTP/1.1
      let at = 8 + out.write(head, 8, 'latin1')
      for (const chunk of chunks) {
        if (typeof chunk === 'string') at += out.write(chunk, at)
        else {
          out.set(chunk, at)
          at += chunk.byteLength
        }
      }
      out.fill(0, at, record)
    }
    if (last) {
      writeRecordHeader(out, record, STDOUT, this.requestId, 0)
      writeEndRequest(out, record + 8, this.requestId, 0, REQUEST_COMPLETE)
    }
    return out
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
    const packed = this.pack([chunk], false)
    if (packed !== undefined) return packed.length === 0 || this.link.write(packed)
    this.flush()
    return this.stdout(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  }

  watchDrain(): void {
    this.link.watchDrain(this)
  }

  /** The connection can take more. */
  drained(): void {
    this.events.drained()
  }

  end(chunks?: readonly Chunk[]): void {
    // the common response (a head and a small body) and the end of the request: one buffer
    let last = this.pack(chunks ?? NO_CHUNKS, true)
    if (last === undefined) {
      if (chunks !== undefined) for (const chunk of chunks) this.write(chunk)
      this.flush()
      last = this.pack(NO_CHUNKS, true)!
    }
    this.ended = true
    const link = this.link
    link.write(last)
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
