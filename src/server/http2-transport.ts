/**
 * The HTTP/2 transport of the response pipeline: one `ServerHttp2Stream` of node:http2's core
 * API (no compatibility request/response objects). The head goes out in one `respond` with
 * the connection-specific fields dropped (RFC 9113 §8.2.2) and no reason phrase; the body in
 * DATA frames whose flow control is the pipeline's backpressure; a response that fails after
 * its head is reset (RST_STREAM), so the client cannot take it for complete.
 */
import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2'
import type { Readable } from 'node:stream'
import type { Chunk, HeaderList } from '../types.js'
import { isConnectionSpecific, isContentLength, isTransferEncoding } from './framing.js'
import { HEAD_BODYLESS, HEAD_PLAIN, type Transport, type TransportEvents } from './transport.js'

const { NGHTTP2_NO_ERROR } = constants
const TRANSPORT = Symbol('tsgi.transport')
type StreamHolder = ServerHttp2Stream & { [TRANSPORT]?: Http2Transport | undefined }

/** Shared listeners: no closure per stream. */
function onStreamClose(this: StreamHolder): void {
  const transport = this[TRANSPORT]
  this[TRANSPORT] = undefined
  transport?.onClose()
}

function onStreamFinish(this: StreamHolder): void {
  this[TRANSPORT]?.onFinish()
}

function onStreamDrain(this: StreamHolder): void {
  this[TRANSPORT]?.onDrain()
}

function ignore(): void {}

/**
 * The app's flat list as an HTTP/2 header object: names lowercased (HTTP/2 requires it),
 * repeated fields as arrays, the framing and connection-specific fields dropped, and the
 * Content-Length the pipeline computed added when the app declared none.
 */
function headerObject(status: number, headers: HeaderList, length: number | undefined, flags: number) {
  const out: OutgoingHttpHeaders = { ':status': status }
  let chunked = false
  let declared = false
  if (!(flags & HEAD_PLAIN)) {
    for (let i = 0; i < headers.length; i += 2) {
      if (isTransferEncoding(headers[i]!)) chunked = true
    }
  }
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase()
    if (isConnectionSpecific(name)) continue
    if (isContentLength(name)) {
      if (chunked) continue
      declared = true
    }
    const value = headers[i + 1]!
    const prev = out[name]
    if (prev === undefined) out[name] = value
    else if (Array.isArray(prev)) prev.push(value)
    else out[name] = [String(prev), value]
  }
  if (length !== undefined && !declared && !chunked) out['content-length'] = length
  return out
}

/** The transport of one HTTP/2 stream. */
export class Http2Transport implements Transport {
  private events!: TransportEvents
  private sentHead = false
  private endedBody = false
  private finishedBody = false

  constructor(readonly stream: ServerHttp2Stream) {}

  get headSent(): boolean {
    return this.sentHead
  }

  get ended(): boolean {
    return this.endedBody
  }

  get finished(): boolean {
    return this.finishedBody
  }

  get gone(): boolean {
    return this.stream.destroyed && !this.finishedBody
  }

  attach(events: TransportEvents): void {
    this.events = events
    // a peer's reset with an error code is an 'error' event: never an uncaught one
    this.stream.on('error', ignore)
  }

  inputPending(): boolean {
    const stream = this.stream
    return !stream.endAfterHeaders && !stream.readableEnded
  }

  watchClose(): void {
    const stream = this.stream as StreamHolder
    stream[TRANSPORT] = this
    stream.on('close', onStreamClose)
    stream.on('finish', onStreamFinish)
  }

  /** Our side ended: a request body the app left unread is drained so the stream can close. */
  onFinish(): void {
    // node ends the writable side of a stream the peer reset too: that is no completion
    if (!this.endedBody) return
    this.finishedBody = true
    const stream = this.stream
    if (!stream.readableEnded) stream.resume()
  }

  onDrain(): void {
    this.events.drained()
  }

  onClose(): void {
    // A stream the peer reset after our END_STREAM went out still completed.
    if (!this.finishedBody && this.stream.rstCode === NGHTTP2_NO_ERROR && this.endedBody) {
      this.finishedBody = true
    }
    this.events.closed()
  }

  head(
    status: number,
    _reason: string | undefined,
    headers: HeaderList,
    length: number | undefined,
    flags: number,
  ): string | undefined {
    const stream = this.stream
    if (stream.destroyed) return 'the stream was closed before the head could be sent'
    const bodyless = (flags & HEAD_BODYLESS) !== 0
    try {
      stream.respond(headerObject(status, headers, length, flags), { endStream: bodyless })
    } catch (err) {
      return `node:http2 refused the response head: ${(err as Error).message}`
    }
    this.sentHead = true
    if (bodyless) this.endedBody = true
    return undefined
  }

  flush(): void {
    // respond() sent the HEADERS frame already
  }

  write(chunk: Chunk): boolean {
    if (this.stream.destroyed) return true
    return this.stream.write(chunk)
  }

  watchDrain(): void {
    this.stream.on('drain', onStreamDrain)
  }

  end(chunks?: readonly Chunk[]): void {
    if (this.endedBody) return
    this.endedBody = true
    const stream = this.stream
    if (stream.destroyed) return
    const n = chunks === undefined ? 0 : chunks.length
    if (n === 0) stream.end()
    else if (n === 1) stream.end(chunks![0])
    else {
      for (let i = 0; i < n - 1; i++) stream.write(chunks![i]!)
      stream.end(chunks![n - 1])
    }
  }

  pipe(source: Readable): void {
    // registered before pipe's own: the body counts as ended just before pipe ends the stream
    source.once('end', () => {
      this.endedBody = true
    })
    source.pipe(this.stream)
  }

  /**
   * Resets the stream with INTERNAL_ERROR. Not `stream.close(code)`: on node 20 that sends an
   * empty DATA frame with END_STREAM first, and the client would take the response for whole.
   */
  destroy(): void {
    const stream = this.stream
    if (!stream.destroyed) stream.destroy(new Error('tsgi: response cut short'))
  }

  closeAfter(): void {
    // HTTP/2 closes connections with GOAWAY, from the server's close()
  }

  earlyHints(headers: HeaderList): void {
    const stream = this.stream
    if (stream.destroyed || stream.headersSent) return
    const hints: OutgoingHttpHeaders = { ':status': 103 }
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase()
      if (isConnectionSpecific(name)) continue
      const value = headers[i + 1]!
      const prev = hints[name]
      if (prev === undefined) hints[name] = value
      else if (Array.isArray(prev)) prev.push(value)
      else hints[name] = [String(prev), value]
    }
    stream.additionalHeaders(hints)
  }
}
