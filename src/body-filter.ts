/**
 * Body filters applied to each body form, for {@link responseCb}: an array body filtered in
 * place, an async-iterable body wrapped so it is read only as its consumer asks, and a writer
 * wrapped so each chunk goes through the filter on its way out. Order is kept with sync and
 * async filters alike; backpressure is kept (a wrapped `write` resolves no earlier than the
 * inner one); closing a wrapped body unread frees the inner one.
 */
import { discardBody, isPromiseLike } from './body.js'
import type { Body, Chunk, Writer } from './types.js'

type Maybe<T> = T | PromiseLike<T>

/** What a body filter returns: the chunk to send, or nothing. */
export type FilterResult = Chunk | null | undefined

/** Sees every chunk in order, then `null` once at the end; returns what to send instead. */
export type BodyFilter = (chunk: Chunk | null) => Maybe<FilterResult>

const ignore = () => {}

/** `p`, marked handled: its failure is reported elsewhere, so the app need not await it. */
export function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(ignore)
  return p
}

/** An array body through `filter`: synchronously when the filter is, else a promise. */
export function filterArray(body: readonly Chunk[], filter: BodyFilter): Maybe<Chunk[]> {
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
  return pending ? pending.then(() => out) : out
}

async function* filtered(body: AsyncIterable<Chunk>, filter: BodyFilter): AsyncGenerator<Chunk> {
  for await (const chunk of body) {
    const r = await filter(chunk)
    if (r !== null && r !== undefined) yield r
  }
  const last = await filter(null)
  if (last !== null && last !== undefined) yield last
}

/**
 * An async-iterable body through `filter`, read one chunk per `next()`. `return()` reaches the
 * inner body: through its iterator once reading began, and before that by freeing it (a node
 * Readable destroyed, a web stream cancelled), which an unstarted generator could not do.
 */
export function filterIterable(body: AsyncIterable<Chunk>, filter: BodyFilter): AsyncIterable<Chunk> {
  const gen = filtered(body, filter)
  let started = false
  const unread = async () => {
    if (started) return
    started = true
    await discardBody(body)
  }
  const iterator: AsyncIterableIterator<Chunk> = {
    next: () => {
      started = true
      return gen.next()
    },
    return: async (value?: unknown) => {
      await unread()
      return gen.return(value as undefined)
    },
    throw: async (err?: unknown) => {
      await unread()
      return gen.throw(err)
    },
    [Symbol.asyncIterator]: () => iterator,
  }
  return iterator
}

/**
 * A writer whose chunks go through `filter` to `writer`. Its promises never count as
 * unhandled: the first failure (of the filter or of the inner writer) is passed to `failed`,
 * after which writes and close reject without reaching the inner writer, so a cut response is
 * never closed as if complete. `closed` is called once the inner writer closed.
 */
export function filteredWriter(
  writer: Writer,
  filter: BodyFilter,
  outcome: { closed(): void; failed(err: unknown): void },
): Writer {
  let tail: Promise<void> | undefined
  let failure: { err: unknown } | undefined
  const send = (r: FilterResult): Promise<void> =>
    r === null || r === undefined ? Promise.resolve() : writer.write(r)
  const record = (err: unknown): void => {
    if (failure) return
    failure = { err }
    outcome.failed(err)
  }
  const fault = (err: unknown): never => {
    record(err)
    throw err
  }
  const guard = (p: Promise<void>): Promise<void> => handled(p.catch(fault))
  const step = (chunk: Chunk | null): Promise<void> => {
    if (failure) return handled(Promise.reject(failure.err))
    if (tail) {
      tail = guard(tail.then(() => Promise.resolve(filter(chunk)).then(send)))
      return tail
    }
    try {
      const r = filter(chunk)
      if (!isPromiseLike<FilterResult>(r)) return guard(send(r))
      tail = guard(Promise.resolve(r).then(send))
      return tail
    } catch (err) {
      record(err)
      return handled(Promise.reject(err))
    }
  }
  return {
    write: (chunk) => step(chunk),
    close: () =>
      guard(
        step(null).then(() => {
          if (failure) throw failure.err
          return writer.close().then(outcome.closed)
        }),
      ),
  }
}

/** A writer for the app to use at once, while the real one (`ready`) is still being made. */
export function deferredWriter(ready: Promise<Writer | undefined>): Writer {
  let tail: Promise<unknown> = ready
  const run = (op: (w: Writer) => Promise<void>): Promise<void> => {
    const next = tail.then(() => ready).then((w) => (w ? op(w) : undefined))
    tail = next
    return handled(next)
  }
  return { write: (chunk) => run((w) => w.write(chunk)), close: () => run((w) => w.close()) }
}

/** A writer that refuses everything with `err` (the response failed before it began). */
export function deadWriter(err: unknown): Writer {
  return { write: () => handled(Promise.reject(err)), close: () => handled(Promise.reject(err)) }
}

/** The body, filtered, in its own form (undefined stays undefined). */
export function filterBody(body: Body, filter: BodyFilter): Maybe<Body> {
  return Array.isArray(body) ? filterArray(body, filter) : filterIterable(body, filter)
}
