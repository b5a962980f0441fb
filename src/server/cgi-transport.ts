/**
 * The CGI transport of the response pipeline (RFC 3875 §6): the one response of a CGI process,
 * written to its standard output. The head goes out as CGI response headers (`cgi-head.ts`),
 * held until the first body bytes so they leave in one write; the front end frames the body
 * for its client. Writes follow the output's backpressure (`'drain'`).
 *
 * A response cut short must not look complete, but a front end that frames the body itself
 * sees only the end of the pipe, whatever the script's exit status: lighttpd and Apache both
 * end such a response cleanly. Two things do show the cut:
 *
 * - a declared `Content-Length` the body falls short of (lighttpd passes it on; Apache drops a
 *   streamed CGI body's length and frames it itself);
 * - with `chunked`, a body of unknown length framed by the script with chunked transfer coding,
 *   which lighttpd 1.4.56 and later decode (RFC 3875 leaves this out; Apache would pass the
 *   framing on as body bytes, so it is only for a front end known to decode it). A body that
 *   ends without its last chunk is then cut for the client too.
 *
 * A head that was accepted but not yet written when the response is cut is never written: the
 * front end then answers the client with its own 500 (lighttpd and Apache alike).
 */
import type { Writable } from 'node:stream'
import type { Chunk, HeaderList } from '../types.js'
import { cgiHead } from './cgi-head.js'
import { HEAD_BODYLESS, type Transport, type TransportEvents } from './transport.js'

const CRLF = Buffer.from('\r\n')
const LAST_CHUNK = Buffer.from('0\r\n\r\n')

/** The transport of a CGI process's response, on `output` (its standard output). */
export class CgiTransport implements Transport {
  headSent = false
  ended = false
  finished = false
  gone = false
  /** Settles once the response is over: written out, cut, or the front end gone. */
  readonly settled: Promise<void>
  private settle!: () => void
  private over = false
  private events!: TransportEvents
  /** The head, held until the first body bytes (or the end, or a flush) go out with it. */
  private pending: Buffer | undefined
  /** This response's body is framed with chunked transfer coding. */
  private chunked = false
  private bodyless = false
  /** The response was cut short: it never counts as finished. */
  private cut = false
  private drainWatched = false

  /**
   * `frameChunked`: frame bodies of unknown length with chunked transfer coding (for a front end
   * that decodes it).
   */
  constructor(
    private readonly output: Writable,
    private readonly frameChunked: boolean,
  ) {
    this.settled = new Promise((resolve) => {
      this.settle = resolve
    })
  }

  attach(events: TransportEvents): void {
    this.events = events
    const output = this.output
    output.once('finish', () => {
      if (!this.cut) this.finished = true
      this.done()
    })
    // EPIPE and the like: the front end closed the pipe (the client left, or it gave up on us).
    output.on('error', () => this.lost())
    output.once('close', () => {
      if (!this.finished) this.lost()
    })
  }

  watchClose(): void {
    // the output is watched from attach(); `closed` is reported once it is over
  }

  inputPending(): boolean {
    return false // the process ends with the response: stdin needs no draining
  }

  head(
    status: number,
    reason: string | undefined,
    headers: HeaderList,
    length: number | undefined,
    flags: number,
  ): string | undefined {
    const head = cgiHead(status, reason, headers, length, flags, 'CGI')
    if (typeof head === 'string') return head
    this.bodyless = (flags & HEAD_BODYLESS) !== 0
    this.chunked = this.frameChunked && !this.bodyless && !head.hasLength
    const framing = this.chunked ? 'Transfer-Encoding: chunked\r\n' : ''
    // obs-text stays one octet per character, as it does on HTTP/1.1
    this.pending = Buffer.from(`${head.lines}${framing}\r\n`, 'latin1')
    this.headSent = true
    return undefined
  }

  flush(): void {
    if (this.pending === undefined || this.gone) return
    this.output.write(this.pending)
    this.pending = undefined
  }

  write(chunk: Chunk): boolean {
    if (this.gone || this.ended) return true
    const output = this.output
    output.cork()
    this.flush()
    const ok = this.body(chunk)
    output.uncork()
    return ok && !output.writableNeedDrain
  }

  /** Writes one body chunk (framed when chunked); the output's `write` result. */
  private body(chunk: Chunk): boolean {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (bytes.byteLength === 0) return true // an empty chunk would end a chunked body
    const output = this.output
    if (!this.chunked) return output.write(bytes)
    output.write(`${bytes.byteLength.toString(16)}\r\n`)
    output.write(bytes)
    return output.write(CRLF)
  }

  watchDrain(): void {
    if (this.drainWatched) return
    this.drainWatched = true
    this.output.on('drain', () => this.events.drained())
  }

  end(chunks?: readonly Chunk[]): void {
    if (this.ended) return
    this.ended = true
    if (this.gone) return
    const output = this.output
    output.cork()
    this.flush()
    if (chunks !== undefined && !this.bodyless) for (const chunk of chunks) this.body(chunk)
    if (this.chunked) output.write(LAST_CHUNK)
    output.end()
  }

  /** Ends the output without the rest of the body (and without a head not yet written). */
  destroy(): void {
    if (this.finished || this.cut) return
    this.cut = true
    this.ended = true
    this.pending = undefined
    if (!this.gone) this.output.end()
  }

  closeAfter(): void {
    // the process ends with its one response
  }

  earlyHints(): void {
    // a CGI front end has no way to pass a 103 on
  }

  /**
   * The front end is done with this process before the response completed (it closed the pipe,
   * or sent SIGTERM because its client left): nothing more is written.
   */
  lost(): void {
    if (this.finished || this.gone) return
    this.gone = true
    this.ended = true
    this.pending = undefined
    this.done()
  }

  private done(): void {
    if (this.over) return
    this.over = true
    this.events.closed()
    this.settle()
  }
}
