/**
 * A small HTTP/2 client over node:http2 that takes a web `Request` and gives a web `Response`,
 * the HTTP/2 counterpart of `remoteFetch` (`http-client.ts`), for the same reasons: the global
 * `fetch` picks its own `:authority`, adds headers and decompresses bodies. All requests to one
 * base URL share one session (h2c with prior knowledge for `http:`, h2 over TLS for `https:`,
 * accepting any certificate: test servers use self-signed ones).
 *
 * The body of a response fails to read when its stream ends without END_STREAM: reset by the
 * server, cut by a GOAWAY or a broken session. Aborting the request's signal resets its stream
 * and fails the body, as `fetch` does; cancelling the response body resets it too.
 */
import http2 from 'node:http2'
import { isConnectionSpecific } from '../server/framing.js'
import type { TestFetch } from './harness.js'
import { testRequest } from './test-request.js'

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants

/** An HTTP/2 `fetch` and the function that closes its session. */
export interface Http2Fetch {
  readonly fetch: TestFetch
  /** Closes the session: gracefully when no stream is open, else at once, resetting them. */
  close(): Promise<void>
}

const ignore = () => {}

function noBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304
}

/** The request's headers as HTTP/2 fields: pseudo-headers first, repeated fields kept apart. */
function requestHeaders(request: globalThis.Request, origin: URL): http2.OutgoingHttpHeaders {
  const url = new URL(request.url)
  const headers: http2.OutgoingHttpHeaders = {
    ':method': request.method,
    ':scheme': origin.protocol.slice(0, -1),
    ':authority': request.headers.get('host') ?? url.host,
    ':path': url.pathname + url.search,
  }
  for (const [name, value] of request.headers) {
    // HTTP/2 forbids the connection-specific fields (RFC 9113 §8.2.2); `Host` is `:authority`
    if (name === 'host' || isConnectionSpecific(name)) continue
    if (name === 'te' && value !== 'trailers') continue
    headers[name] = value
  }
  return headers
}

/** The response's fields as web `Headers`, without pseudo-headers. */
function responseHeaders(incoming: http2.IncomingHttpHeaders): globalThis.Headers {
  const out = new globalThis.Headers()
  for (const [name, value] of Object.entries(incoming)) {
    if (name.startsWith(':') || value === undefined) continue
    if (Array.isArray(value)) for (const v of value) out.append(name, v)
    else out.append(name, String(value))
  }
  return out
}

/**
 * Resets `stream`. node's `close(code)` first ends the writable side, which would send a
 * request body still under way as if complete (END_STREAM): such a stream is destroyed
 * instead, which resets it without ending it.
 */
function reset(stream: http2.ClientHttp2Stream): void {
  if (stream.destroyed) return
  if (stream.writableEnded) stream.close(NGHTTP2_CANCEL)
  else stream.destroy(new Error('request aborted'))
}

/**
 * The stream's DATA as a web stream that follows the reader's pace (a paused stream stops
 * giving the server flow-control credit). It errors when the stream closes before its end,
 * and with `abort`'s reason when the request is aborted.
 */
function bodyStream(stream: http2.ClientHttp2Stream): {
  body: ReadableStream<Uint8Array>
  abort(reason: unknown): void
} {
  // Set once the web stream is closed, errored or cancelled: later events of the h2 stream are dropped.
  let settled = false
  let fail: (reason: unknown) => void = ignore
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        fail = (reason) => {
          if (settled) return
          settled = true
          controller.error(reason)
        }
        stream.on('data', (chunk: Buffer) => {
          if (settled) return
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 0) <= 0) stream.pause()
        })
        stream.once('end', () => {
          // node also ends the readable side of a stream torn down with its session (a GOAWAY,
          // a lost connection); it then carries the code of that reset.
          if (stream.rstCode !== undefined && stream.rstCode !== NGHTTP2_NO_ERROR) {
            return fail(new Error(`HTTP/2 stream reset before the end of the body (code ${stream.rstCode})`))
          }
          if (settled) return
          settled = true
          controller.close()
        })
        stream.once('close', () => {
          fail(new Error(`HTTP/2 stream closed before the end of the body (code ${stream.rstCode})`))
        })
      },
      pull() {
        stream.resume()
      },
      cancel() {
        settled = true
        reset(stream)
        stream.resume()
      },
    },
    { highWaterMark: 1 },
  )
  return { body, abort: (reason) => fail(reason) }
}

/** Waits until `stream` can take more, or is closed. */
function drained(stream: http2.ClientHttp2Stream): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      stream.off('drain', settle)
      stream.off('close', settle)
      resolve()
    }
    stream.on('drain', settle)
    stream.on('close', settle)
  })
}

/** Streams `body` into the request stream, waiting for flow control; resets the stream if `body` fails. */
async function sendBody(body: ReadableStream<Uint8Array>, stream: http2.ClientHttp2Stream): Promise<void> {
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (stream.closed || stream.destroyed) return
      if (done) return void stream.end()
      if (!stream.write(value)) await drained(stream)
    }
  } catch {
    reset(stream)
  } finally {
    reader.releaseLock()
  }
}

/** Sends `request` on `session`; `origin` gives the scheme, `open` (if given) holds the stream until it closes. */
export function http2Request(
  request: globalThis.Request,
  origin: URL,
  session: http2.ClientHttp2Session,
  open?: Set<http2.ClientHttp2Stream>,
): Promise<globalThis.Response> {
  const signal = request.signal
  if (signal.aborted) return Promise.reject(signal.reason)
  const stream = session.request(requestHeaders(request, origin), { endStream: request.body === null })
  if (open) {
    open.add(stream)
    stream.once('close', () => open.delete(stream))
  }
  // Errors show as a close before the end (head or body); the listener keeps them from throwing.
  stream.on('error', ignore)
  let abortBody: (reason: unknown) => void = ignore
  const onAbort = () => {
    abortBody(signal.reason)
    reset(stream)
  }
  signal.addEventListener('abort', onAbort, { once: true })
  stream.once('close', () => signal.removeEventListener('abort', onAbort))
  if (request.body !== null) void sendBody(request.body, stream)
  return new Promise((resolve, reject) => {
    const onEarlyClose = () => {
      reject(
        signal.aborted
          ? signal.reason
          : new Error(`HTTP/2 stream closed before the response head (code ${stream.rstCode})`),
      )
    }
    stream.once('close', onEarlyClose)
    stream.once('response', (headers) => {
      stream.off('close', onEarlyClose)
      const status = Number(headers[':status'])
      let body: ReadableStream<Uint8Array> | null = null
      if (noBody(request.method, status)) stream.resume()
      else {
        const reading = bodyStream(stream)
        body = reading.body
        abortBody = reading.abort
      }
      try {
        resolve(new globalThis.Response(body, { status, headers: responseHeaders(headers) }))
      } catch (err) {
        reset(stream)
        reject(err)
      }
    })
  })
}

/**
 * An HTTP/2 `fetch` aimed at the server at `base`. The session opens with the first request
 * and opens again when the server closed it; `close()` ends it.
 */
export function remoteHttp2Fetch(base: string): Http2Fetch {
  const origin = new URL(base)
  let session: http2.ClientHttp2Session | undefined
  const streams = new Set<http2.ClientHttp2Stream>()
  const current = (): http2.ClientHttp2Session => {
    if (session && !session.closed && !session.destroyed) return session
    const opened = http2.connect(origin, { rejectUnauthorized: false, settings: { enablePush: false } })
    // Session errors reach the streams on it; the session itself has nobody else to tell.
    opened.on('error', ignore)
    session = opened
    return opened
  }
  return {
    fetch: async (input, init) =>
      http2Request(await testRequest(input, init, base), origin, current(), streams),
    close: async () => {
      const open = session
      session = undefined
      if (!open || open.destroyed) return
      const closed = new Promise<void>((resolve) => open.once('close', resolve))
      if (streams.size === 0) open.close()
      else open.destroy()
      await closed
    },
  }
}
