/**
 * responseCb — Plack::Util::response_cb for TSGI: the one way a middleware edits a response,
 * whatever its form (a triple, a promise of one, a delayed response with or without a writer).
 *
 * `cb` gets the response as a mutable array: `[status, headers, body]` for a finished response,
 * `[status, headers]` for a streaming one whose body will come through a writer. It edits the
 * status and headers in place (and may replace the body of a triple). It may return a body
 * filter: called with each chunk and then once with `null` at the end of the stream, returning
 * the chunk to send instead (or nothing). When a filter is returned, `Content-Length` is removed,
 * unless the filter is marked {@link lengthPreserving}.
 * `cb` and the filter may be async; order is kept either way. Nothing is buffered: an
 * async-iterable body is filtered as it is read, a writer as it is written.
 *
 * @example
 * return responseCb(app(env), (res) => { headerSet(res[1], 'X-Frame-Options', 'DENY') })
 */
import { isPromiseLike } from './body.js'
import { headerRemove } from './headers.js'
import type { AppResult, Body, Chunk, Delayed, HeaderList, Responder, Triple, Writer } from './types.js'

type Maybe<T> = T | PromiseLike<T>

/** What a body filter returns: the chunk to send, or nothing. */
export type FilterResult = Chunk | null | undefined

/** Sees every chunk in order, then `null` once at the end; returns what to send instead. */
export type BodyFilter = (chunk: Chunk | null) => Maybe<FilterResult>

const KEEPS_LENGTH = Symbol('tsgi.keepsLength')

/**
 * Marks a filter that passes the body's bytes through unchanged in length (one that counts or
 * observes them, say), so `Content-Length` is kept when it is used.
 */
export function lengthPreserving(filter: BodyFilter): BodyFilter {
  return Object.assign((chunk: Chunk | null) => filter(chunk), { [KEEPS_LENGTH]: true })
}

function dropLength(headers: HeaderList, filter: BodyFilter): void {
  if (!(filter as { [KEEPS_LENGTH]?: boolean })[KEEPS_LENGTH]) headerRemove(headers, 'Content-Length')
}

/** The response as `cb` sees it: status and headers always, the body when it is not a writer. */
export type ResponseParts = [status: number, headers: HeaderList, body?: Body]

/** Edits the response in place; may return a body filter. */
export type ResponseCallback = (res: ResponseParts) => Maybe<BodyFilter | undefined | void>

/** Applies `cb` to any form of response and returns the same form. */
export function responseCb(res: Maybe<AppResult>, cb: ResponseCallback): Maybe<AppResult> {
  if (isPromiseLike<AppResult>(res)) return Promise.resolve(res).then((r) => responseCb(r, cb))
  if (typeof res === 'function') return wrapDelayed(res, cb)
  const parts = res as ResponseParts
  const filter = cb(parts)
  if (isPromiseLike<BodyFilter | undefined | void>(filter)) {
    return Promise.resolve(filter).then((f) => (f ? filterTriple(parts, f) : (parts as Triple)))
  }
  return filter ? filterTriple(parts, filter) : (parts as Triple)
}

function wrapDelayed(delayed: Delayed, cb: ResponseCallback): Delayed {
  return (respond) => {
    // Async work started by `cb` while the app runs is awaited before the delayed response
    // settles, so a failure reaches the server as the app's own rejection would.
    let inflight: Promise<unknown>[] | undefined = []
    const track = (p: Promise<unknown>, parts: ResponseParts) => {
      if (inflight) inflight.push(p)
      else if (parts.length >= 3)
        p.catch(() => respond([500, ['Content-Type', 'text/plain'], ['Internal Server Error']]))
    }
    const responder = ((inner: ResponseParts) => {
      const filter = cb(inner)
      if (isPromiseLike<BodyFilter | undefined | void>(filter)) {
        // The cb is async: the app still needs its writer now, so hand it one that waits.
        const ready = Promise.resolve(filter).then((f) => forward(respond, inner, f || undefined, track))
        track(ready, inner)
        return inner.length >= 3 ? undefined : deferredWriter(ready)
      }
      return forward(respond, inner, filter || undefined, track)
    }) as Responder
    const settle = () => {
      const all = inflight ?? []
      inflight = undefined
      return Promise.all(all).then(() => {})
    }
    const ran = delayed(responder)
    return isPromiseLike(ran)
      ? Promise.resolve(ran).then(settle, (err) => settle().then(() => Promise.reject(err)))
      : settle()
  }
}

function forward(
  respond: Responder,
  parts: ResponseParts,
  filter: BodyFilter | undefined,
  track: (p: Promise<unknown>, parts: ResponseParts) => void,
): Writer | undefined {
  if (parts.length >= 3) {
    const triple = filter ? filterTriple(parts, filter) : (parts as Triple)
    if (isPromiseLike<Triple>(triple))
      track(
        Promise.resolve(triple).then((t) => respond(t)),
        parts,
      )
    else respond(triple)
    return undefined
  }
  if (filter) dropLength(parts[1], filter)
  const writer = respond(parts as [number, HeaderList])
  return filter ? filteredWriter(writer, filter) : writer
}

function filterTriple(parts: ResponseParts, filter: BodyFilter): Maybe<Triple> {
  dropLength(parts[1], filter)
  const body = parts[2]
  if (body === undefined) return parts as Triple
  if (!Array.isArray(body)) {
    parts[2] = filterIterable(body, filter)
    return parts as Triple
  }
  const out: Chunk[] = []
  let pending: Promise<void> | undefined
  const take = (r: FilterResult) => {
    if (r !== null && r !== undefined) out.push(r)
  }
  for (const chunk of [...body, null]) {
    if (pending) {
      pending = pending.then(() => Promise.resolve(filter(chunk)).then(take))
      continue
    }
    const r = filter(chunk)
    if (isPromiseLike<FilterResult>(r)) pending = Promise.resolve(r).then(take)
    else take(r)
  }
  const done = () => {
    parts[2] = out
    return parts as Triple
  }
  return pending ? pending.then(done) : done()
}

async function* filterIterable(body: AsyncIterable<Chunk>, filter: BodyFilter): AsyncGenerator<Chunk> {
  for await (const chunk of body) {
    const r = await filter(chunk)
    if (r !== null && r !== undefined) yield r
  }
  const last = await filter(null)
  if (last !== null && last !== undefined) yield last
}

function filteredWriter(writer: Writer, filter: BodyFilter): Writer {
  let tail: Promise<void> | undefined
  const send = (r: FilterResult): Promise<void> =>
    r === null || r === undefined ? Promise.resolve() : writer.write(r)
  const step = (chunk: Chunk | null): Promise<void> => {
    if (tail) {
      tail = tail.then(() => Promise.resolve(filter(chunk)).then(send))
      return tail
    }
    const r = filter(chunk)
    if (!isPromiseLike<FilterResult>(r)) return send(r)
    tail = Promise.resolve(r).then(send)
    return tail
  }
  return {
    write: (chunk) => step(chunk),
    close: () => step(null).then(() => writer.close()),
  }
}

function deferredWriter(ready: Promise<Writer | undefined>): Writer {
  let tail: Promise<unknown> = ready
  const run = (op: (w: Writer) => Promise<void>): Promise<void> => {
    const next = tail.then(() => ready).then((w) => (w ? op(w) : undefined))
    tail = next
    return next
  }
  return { write: (chunk) => run((w) => w.write(chunk)), close: () => run((w) => w.close()) }
}
