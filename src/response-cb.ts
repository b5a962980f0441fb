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
 * async-iterable body is filtered as it is read, a writer as it is written (see `body-filter.ts`).
 *
 * Failures reach the caller in the response's own form: a throw or rejection for a triple or a
 * promise; for a delayed response, a rejection of the promise the wrapped delayed response
 * returns, whenever they happen (in `cb`, in a filter, in the inner writer), even when the app
 * responds later or does not await its writes. That promise resolves once the app's delayed
 * response has, the app has responded, and the response is through (a filtered writer closed).
 *
 * @example
 * return responseCb(app(env), (res) => { headerSet(res[1], 'X-Frame-Options', 'DENY') })
 */

import { isPromiseLike } from './body.js'
import { type BodyFilter, deadWriter, deferredWriter, filterBody, filteredWriter } from './body-filter.js'
import { headerRemove } from './headers.js'
import type { AppResult, Body, Delayed, Head, HeaderList, Responder, Triple, Writer } from './types.js'

export type { BodyFilter, FilterResult } from './body-filter.js'

type Maybe<T> = T | PromiseLike<T>

const KEEPS_LENGTH = Symbol('tsgi.keepsLength')

/**
 * Marks a filter that passes the body's bytes through unchanged in length (one that counts or
 * observes them, say), so `Content-Length` is kept when it is used.
 */
export function lengthPreserving(filter: BodyFilter): BodyFilter {
  return Object.assign((chunk: Parameters<BodyFilter>[0]) => filter(chunk), { [KEEPS_LENGTH]: true })
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

function filterTriple(parts: ResponseParts, filter: BodyFilter): Maybe<Triple> {
  dropLength(parts[1], filter)
  const body = parts[2]
  if (body === undefined) return parts as Triple
  const out = filterBody(body, filter)
  if (!isPromiseLike<Body>(out)) {
    parts[2] = out
    return parts as Triple
  }
  return Promise.resolve(out).then((b) => {
    parts[2] = b
    return parts as Triple
  })
}

/** What the wrapped delayed response waits for, and where its failures go. */
interface Tracker {
  track(p: PromiseLike<unknown>): void
  fail(err: unknown): void
}

function wrapDelayed(delayed: Delayed, cb: ResponseCallback): Delayed {
  return (respond) =>
    new Promise<void>((resolve, reject) => {
      let pending = 0
      let failed = false
      const t: Tracker = {
        fail: (err) => {
          if (failed) return
          failed = true
          reject(err)
        },
        track: (p) => {
          pending++
          Promise.resolve(p).then(() => {
            if (--pending === 0 && !failed) resolve()
          }, t.fail)
        },
      }
      // Until the app responds, the response is not through, however its delayed response settles.
      let responded!: () => void
      t.track(new Promise<void>((r) => (responded = r)))
      const responder = ((inner: ResponseParts) => {
        responded()
        try {
          const filter = cb(inner)
          if (!isPromiseLike<BodyFilter | undefined | void>(filter)) {
            return forward(respond, inner, filter || undefined, t)
          }
          // The cb is async: the app still needs its writer now, so hand it one that waits.
          const ready = Promise.resolve(filter).then((f) => forward(respond, inner, f || undefined, t))
          t.track(ready)
          return inner.length >= 3 ? undefined : deferredWriter(ready)
        } catch (err) {
          t.fail(err)
          return inner.length >= 3 ? undefined : deadWriter(err)
        }
      }) as Responder
      try {
        t.track(Promise.resolve(delayed(responder)))
      } catch (err) {
        t.fail(err)
      }
    })
}

function forward(
  respond: Responder,
  parts: ResponseParts,
  filter: BodyFilter | undefined,
  t: Tracker,
): Writer | undefined {
  if (parts.length >= 3) {
    const triple = filter ? filterTriple(parts, filter) : (parts as Triple)
    if (isPromiseLike<Triple>(triple)) t.track(Promise.resolve(triple).then((x) => respond(x)))
    else respond(triple)
    return undefined
  }
  if (!filter) return respond(parts as Head)
  dropLength(parts[1], filter)
  const writer = respond(parts as Head)
  let closed!: () => void
  t.track(new Promise<void>((resolve) => (closed = resolve)))
  return filteredWriter(writer, filter, { closed, failed: t.fail })
}
