/**
 * What a server's protocol layer does for one request of the response pipeline
 * (`pipeline.ts`). A transport only carries bytes: it writes a head, writes chunks (saying
 * when to wait), pipes a file stream, ends, destroys, and reports when the connection is done
 * with the response. Everything else (calling the app, validation, framing decisions, body
 * kinds, backpressure, `tsgix.signal`, cleanup handlers) is the pipeline's, so every server
 * behaves alike.
 */
import type { Readable } from 'node:stream'
import type { AbortReason, Chunk, Env, HeaderList } from '../types.js'

/** Flags of {@link Transport.head}, or-ed together: none. */
export const HEAD_NONE = 0
/** The app's list holds neither `Content-Length` nor `Transfer-Encoding` (only `length` to add). */
export const HEAD_PLAIN = 1
/** Some value holds octets U+0080 to U+00FF, sent as single octets (latin1). */
export const HEAD_OBS_TEXT = 2
/** No body goes on the wire (HEAD, 1xx, 204, 304). */
export const HEAD_BODYLESS = 4
/** Body chunks follow at once: the transport may hold the head to send it with them. */
export const HEAD_HOLD = 8

/** What the transport tells the pipeline: the exchange implements it. */
export interface TransportEvents {
  /** The connection can take more after a `write` that returned false. */
  drained(): void
  /** The connection is done with the response: it finished, or it is gone. */
  closed(): void
}

/** One request's protocol side. */
export interface Transport {
  /** The response head went out (or was handed to the runtime). */
  readonly headSent: boolean
  /** The end of the body was written. */
  readonly ended: boolean
  /** The whole response was handed to the connection: it completed. */
  readonly finished: boolean
  /** The client is gone (the connection or stream closed before the response completed). */
  readonly gone: boolean
  /** Why the connection went, when it was not the client leaving (the server timed it out). */
  readonly lostReason?: AbortReason | undefined
  /** Receives the transport's events; called once, before anything else. */
  attach(events: TransportEvents): void
  /**
   * Starts reporting `closed` (at most once called). The pipeline does not call it for a
   * response that ended at once with nothing left to follow; a transport may report anyway.
   */
  watchClose(): void
  /** True while a request body may still be coming (the connection must see it drained or closed). */
  inputPending(env: Env): boolean
  /**
   * Writes the head. `length` is the Content-Length to add when the app declared none; the
   * transport drops the fields its protocol cannot carry. Returns a message when the
   * transport refuses the head (nothing of it was written), else undefined.
   */
  head(
    status: number,
    reason: string | undefined,
    headers: HeaderList,
    length: number | undefined,
    flags: number,
  ): string | undefined
  /** Sends the head now (a writer's response): the client sees it before the first chunk. */
  flush(): void
  /** Writes a chunk of the body; false when the caller should wait for `drained`. */
  write(chunk: Chunk): boolean
  /** Starts reporting `drained` (a transport need not watch for it until asked). */
  watchDrain(): void
  /** Writes these last chunks (none for an empty body) and ends the response. */
  end(chunks?: readonly Chunk[]): void
  /** Pipes a file stream to the body and ends; absent where the pipeline should copy it itself. */
  pipe?(source: Readable): void
  /** Ends the response so that it cannot look complete (the connection cut, the stream reset). */
  destroy(): void
  /** Closes the connection after this response (shutdown, timeouts). */
  closeAfter(): void
  /** Sends a `103 Early Hints` with the checked `headers`, where the protocol allows one. */
  earlyHints(headers: HeaderList): void
  /** Keeps the runtime alive for work after the response (cleanup handlers). */
  waitUntil?(work: Promise<unknown>): void
}
