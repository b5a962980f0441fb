/**
 * The fetch-API transport of the response pipeline: the head becomes a web `Response`, the body
 * a `ReadableStream` the runtime pulls from. A body known whole at the head (an array) goes out
 * as one `Uint8Array`; anything streamed becomes a stream whose writes report backpressure until
 * the runtime pulls again. The client leaving (the request's signal, or the runtime cancelling
 * the body) is the connection's close.
 */
import { toBytes } from '../body.js'
import { statusText } from '../status.js'
import type { Chunk, HeaderList } from '../types.js'
import type { FetchInfo } from './fetch-env.js'
import { wireHeaders } from './framing.js'
import { ResponseAbortedError } from './pipeline.js'
import { HEAD_BODYLESS, type Transport, type TransportEvents } from './transport.js'

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0
  for (const part of parts) size += part.byteLength
  const out = new Uint8Array(size)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }
  return out
}

/** The transport of one fetch request; `response` settles once the head went out. */
export class FetchTransport implements Transport {
  headSent = false
  ended = false
  finished = false
  gone = false
  /** The response the handler resolves with. */
  readonly response: Promise<globalThis.Response>
  private resolve!: (response: globalThis.Response) => void
  private events!: TransportEvents
  private init: ResponseInit | undefined
  private bodyless = false
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined
  private readonly sources: readonly AbortSignal[]
  private readonly onAbort = (): void => this.leave()

  constructor(
    request: globalThis.Request,
    private readonly info: FetchInfo,
  ) {
    this.response = new Promise((resolve) => {
      this.resolve = resolve
    })
    const own = info.signal
    this.sources = own === undefined || own === request.signal ? [request.signal] : [own, request.signal]
  }

  attach(events: TransportEvents): void {
    this.events = events
    if (this.sources.some((s) => s.aborted)) {
      queueMicrotask(this.onAbort)
      return
    }
    for (const s of this.sources) s.addEventListener('abort', this.onAbort, { once: true })
  }

  inputPending(): boolean {
    return false // the runtime owns the request body
  }

  watchClose(): void {
    // every stream is watched from attach()
  }

  head(
    status: number,
    reason: string | undefined,
    headers: HeaderList,
    length: number | undefined,
    flags: number,
  ): string | undefined {
    if (status < 200 || status > 599) {
      return `invalid status ${status}: a fetch-API response must be from 200 to 599`
    }
    const out = new globalThis.Headers()
    const fields = wireHeaders(headers, length)
    for (let i = 0; i < fields.length; i += 2) {
      try {
        out.append(fields[i]!, fields[i + 1]!)
      } catch (err) {
        return `invalid value for header ${JSON.stringify(fields[i])}: ${err instanceof Error ? err.message : String(err)}`
      }
    }
    this.init = { status, statusText: reason ?? statusText(status), headers: out }
    this.bodyless = (flags & HEAD_BODYLESS) !== 0
    this.headSent = true
    return undefined
  }

  /**
   * Resolves with a streamed response (once). A writer's stream keeps one chunk of room, so a
   * write resolves as soon as the reader took the last one; an iterable's keeps none, so the
   * next chunk is pulled only when the reader asks for it.
   */
  private open(room: number): ReadableStreamDefaultController<Uint8Array> {
    if (this.controller !== undefined) return this.controller
    let controller!: ReadableStreamDefaultController<Uint8Array>
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c
        },
        pull: () => this.events.drained(),
        cancel: () => this.leave(),
      },
      { highWaterMark: room },
    )
    this.controller = controller
    this.resolve(new globalThis.Response(stream, this.init))
    return controller
  }

  flush(): void {
    if (this.bodyless) this.resolve(new globalThis.Response(null, this.init))
    else this.open(1)
  }

  write(chunk: Chunk): boolean {
    if (this.gone || this.ended) return true
    const controller = this.open(0)
    controller.enqueue(toBytes(chunk))
    return (controller.desiredSize ?? 0) > 0
  }

  watchDrain(): void {
    // pull() reports every time the runtime wants more
  }

  end(chunks?: readonly Chunk[]): void {
    if (this.ended || this.gone) return
    this.ended = true
    const controller = this.controller
    if (controller === undefined) {
      let payload: Uint8Array | null = null
      if (!this.bodyless && chunks !== undefined && chunks.length > 0) {
        payload = chunks.length === 1 ? toBytes(chunks[0]!) : concat(chunks.map(toBytes))
      }
      // Node's typed arrays are generic over their buffer; the DOM's BodyInit names only ArrayBuffer.
      this.resolve(new globalThis.Response(payload as BodyInit | null, this.init))
    } else {
      if (chunks !== undefined) for (const chunk of chunks) controller.enqueue(toBytes(chunk))
      controller.close()
    }
    this.finished = true
    this.done()
  }

  destroy(): void {
    if (this.finished) return
    this.ended = true
    const controller = this.controller
    if (controller !== undefined) {
      try {
        controller.error(new Error('tsgi: response cut short'))
      } catch {
        // the runtime already cancelled it
      }
    } else this.resolve(globalThis.Response.error())
    this.done()
  }

  closeAfter(): void {
    // the runtime owns the connection
  }

  /**
   * The connection is switching to WebSocket: the request's signal is no longer the client's
   * (Deno aborts it when the upgrade takes the request).
   */
  switching(): void {
    for (const s of this.sources) s.removeEventListener('abort', this.onAbort)
  }

  /** The connection switched: the handler answers with the runtime's own response. */
  switched(response: globalThis.Response): void {
    this.headSent = true
    this.resolve(response)
  }

  earlyHints(): void {
    // the fetch API has no interim responses
  }

  waitUntil(work: Promise<unknown>): void {
    this.info.waitUntil?.(work)
  }

  /** The client went away: the body stream (or a response never sent) fails with the reason. */
  private leave(): void {
    if (this.finished || this.gone) return
    this.gone = true
    const err = new ResponseAbortedError('client-disconnected')
    if (this.controller !== undefined) {
      try {
        this.controller.error(err)
      } catch {
        // the runtime already cancelled it
      }
    } else {
      const failed = new ReadableStream<Uint8Array>({ start: (c) => c.error(err) })
      this.resolve(new globalThis.Response(failed, this.init ?? { status: 503 }))
    }
    for (const s of this.sources) s.removeEventListener('abort', this.onAbort)
    // at once: an app still running must see the abort before it answers
    this.events.closed()
  }

  private done(): void {
    for (const s of this.sources) s.removeEventListener('abort', this.onAbort)
    queueMicrotask(() => this.events.closed())
  }
}
