/**
 * Response bodies for the fetch adapter: an async-iterable body or a streaming writer as a web
 * `ReadableStream` with real backpressure. An iterable is read one chunk per `pull`; a
 * writer's `write` resolves only when the stream has room again. When the response is cut
 * short the iterator's `return()` runs (so its `finally` blocks do) and writes reject.
 */
import { discardBody as freeBody, toBytes } from '../body.js'
import type { AbortReason, Chunk, Writer } from '../types.js'
import { type Exchange, logError } from './fetch-exchange.js'
import { lengthMismatch } from './framing.js'

function isChunk(value: unknown): value is Chunk {
  return typeof value === 'string' || value instanceof Uint8Array
}

function abortError(reason: AbortReason): Error {
  return new Error(`tsgi: response aborted (${reason})`)
}

/** Frees a body that will not be read (HEAD, 204, 304, refused heads); failures are logged. */
export function discardBody(body: unknown, errors: { write(m: string): unknown }): void {
  void freeBody(body, (err) => logError(errors, 'body return() failed', err))
}

/**
 * Counts the bytes of a body whose `Content-Length` is `declared`: `add` and `end` give a
 * message when the body outgrows it or ends short of it (the response then fails, spec 5.3).
 */
function lengthGuard(declared: number | undefined): {
  add(n: number): string | undefined
  end(): string | undefined
} {
  let sent = 0
  return {
    add(n) {
      sent += n
      return declared !== undefined && sent > declared ? lengthMismatch(declared, sent, true) : undefined
    },
    end: () => (declared !== undefined && sent !== declared ? lengthMismatch(declared, sent) : undefined),
  }
}

/** A stream that reads `body` one chunk per pull; `declared` is its Content-Length, if any. */
export function iterableStream(
  body: AsyncIterable<unknown>,
  ex: Exchange,
  errors: { write(m: string): unknown },
  declared?: number,
): ReadableStream<Uint8Array> {
  const guard = lengthGuard(declared)
  let iterator: AsyncIterator<unknown> | undefined
  let stopping: Promise<void> | undefined
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (iterator === undefined) return discardBody(body, errors)
      try {
        if (typeof iterator.return === 'function') await iterator.return()
      } catch (err) {
        logError(errors, 'body return() failed', err)
      }
    })()
    return stopping
  }
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
      },
      async pull(c) {
        if (stopping) return
        try {
          iterator ??= body[Symbol.asyncIterator]()
          for (;;) {
            const r = await iterator.next()
            if (stopping) return
            if (r.done) {
              const short = guard.end()
              if (short !== undefined) throw new Error(short)
              stopping = Promise.resolve()
              c.close()
              ex.complete()
              return
            }
            if (!isChunk(r.value))
              throw new TypeError(`body chunk is ${typeof r.value}, not a string or Uint8Array`)
            const bytes = toBytes(r.value)
            const long = guard.add(bytes.byteLength)
            if (long !== undefined) throw new Error(long)
            if (bytes.byteLength > 0) return c.enqueue(bytes)
          }
        } catch (err) {
          if (stopping) return
          logError(errors, 'response body failed', err)
          ex.abort('server-error')
        }
      },
      cancel() {
        ex.abort('client-disconnected')
        return stop()
      },
    },
    { highWaterMark: 0 },
  )
  ex.onAbort((reason) => {
    try {
      controller?.error(abortError(reason))
    } catch {
      // already closed or cancelled
    }
    void stop()
  })
  return stream
}

/**
 * A stream fed by a {@link Writer}; `write` resolves when the reader has taken what was queued.
 * A body that breaks its Content-Length (`declared`) fails the response: that write or
 * `close` rejects.
 */
export function writerStream(
  ex: Exchange,
  errors: { write(m: string): unknown },
  declared?: number,
): { stream: ReadableStream<Uint8Array>; writer: Writer } {
  const guard = lengthGuard(declared)
  const broken = (message: string): Promise<void> => {
    logError(errors, `response body failed: ${message}`)
    ex.abort('server-error')
    return Promise.reject(new Error(`tsgi: ${message}`))
  }
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined
  let waiters: { resolve(): void; reject(err: Error): void }[] = []
  let failure: Error | undefined
  let closed = false
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
      },
      pull() {
        const ready = waiters
        waiters = []
        for (const w of ready) w.resolve()
      },
      cancel() {
        ex.abort('client-disconnected')
      },
    },
    { highWaterMark: 1 },
  )
  ex.onAbort((reason) => {
    failure = abortError(reason)
    try {
      controller?.error(failure)
    } catch {
      // already closed
    }
    const stuck = waiters
    waiters = []
    for (const w of stuck) w.reject(failure as Error)
  })
  const writer: Writer = {
    write(chunk) {
      if (failure) return Promise.reject(failure)
      if (closed) return Promise.reject(new Error('tsgi: write after close'))
      if (!isChunk(chunk))
        return Promise.reject(new TypeError('Writer.write: chunk must be a string or Uint8Array'))
      const bytes = toBytes(chunk)
      if (bytes.byteLength === 0 || !controller) return Promise.resolve()
      const long = guard.add(bytes.byteLength)
      if (long !== undefined) return broken(long)
      controller.enqueue(bytes)
      if ((controller.desiredSize ?? 0) > 0) return Promise.resolve()
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }))
    },
    close() {
      if (failure || closed) return Promise.resolve()
      closed = true
      const short = guard.end()
      if (short !== undefined) return broken(short)
      controller?.close()
      ex.complete()
      return Promise.resolve()
    },
  }
  return { stream, writer }
}

/** A writer for a response that has no body on the wire (HEAD, 204, 304): writes are dropped. */
export function nullWriter(ex: Exchange): Writer {
  return {
    write(chunk) {
      if (ex.signal.aborted) return Promise.reject(abortError(ex.signal.reason as AbortReason))
      return isChunk(chunk)
        ? Promise.resolve()
        : Promise.reject(new TypeError('Writer.write: chunk must be a string or Uint8Array'))
    },
    close() {
      ex.complete()
      return Promise.resolve()
    },
  }
}

/** The writer handed out after the head was rejected: every write fails. */
export function refusedWriter(reason: string): Writer {
  const err = new Error(`tsgi: response rejected: ${reason}`)
  return { write: () => Promise.reject(err), close: () => Promise.resolve() }
}
