/**
 * Body kinds and the small operations every server and middleware needs on them:
 * recognising arrays, async iterables and files; making a {@link FileBody}; measuring and
 * reading a body whole when a caller truly needs it; freeing one that will not be read.
 *
 * A file body is branded: {@link fileBody} is the only way to make one and {@link isFileBody}
 * the only way to recognise one. Nothing is decided by probing for a `path` property, so an
 * `fs.ReadStream` (which has one) stays an ordinary stream that is read and then closed.
 */
import { createReadStream } from 'node:fs'
import type { Body, Chunk, FileBody } from './types.js'

const encoder = new TextEncoder()

/** True for any object with `Symbol.asyncIterator`. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  )
}

/**
 * The file bodies {@link fileBody} made. A WeakSet rather than a symbol-keyed property: a
 * brand held outside the object cannot be forged, is not carried over by a spread or
 * `Object.assign` copy (which could then change `path` and still pass), and costs the body
 * no property; entries go when their bodies are collected.
 */
const fileBodies = new WeakSet<object>()

/**
 * True for a {@link FileBody}, that is, for a value {@link fileBody} returned. An object with
 * a `path` made any other way (an `fs.ReadStream`, a hand-built `{ path, [Symbol.asyncIterator] }`)
 * is not one: it is an async-iterable body like any other.
 */
export function isFileBody(body: unknown): body is FileBody {
  return typeof body === 'object' && body !== null && fileBodies.has(body)
}

/** True when a promise-like. */
export function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** True for a value a body may hold as a chunk: a string or bytes. */
export function isChunk(value: unknown): value is Chunk {
  return typeof value === 'string' || value instanceof Uint8Array
}

/** A chunk as bytes (strings encoded as UTF-8). */
export function toBytes(chunk: Chunk): Uint8Array {
  return typeof chunk === 'string' ? encoder.encode(chunk) : chunk
}

/** The byte length of a chunk. */
export function chunkLength(chunk: Chunk): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
}

/** The byte length of an array body. */
export function arrayBodyLength(body: readonly Chunk[]): number {
  let n = 0
  for (const chunk of body) n += chunkLength(chunk)
  return n
}

/**
 * A {@link FileBody} for `path`, optionally a byte range (`end` inclusive). Servers may send it
 * with their fastest file path; anything else reads it as a stream of `highWaterMark`-sized chunks.
 * It is the only maker of file bodies; what it returns is frozen, so the `path` and range a
 * server sends are the ones its iterator reads. It opens nothing until it is iterated.
 */
export function fileBody(path: string, range: { start?: number; end?: number } = {}): FileBody {
  const { start, end } = range
  const body = {
    path,
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const opts: { start?: number; end?: number; highWaterMark: number } = { highWaterMark: 64 * 1024 }
      if (start !== undefined) opts.start = start
      if (end !== undefined) opts.end = end
      return createReadStream(path, opts)[Symbol.asyncIterator]()
    },
  }
  if (start !== undefined) Object.assign(body, { start })
  if (end !== undefined) Object.assign(body, { end })
  fileBodies.add(Object.freeze(body))
  return body
}

/** Any body as an async iterable of chunks. */
export function bodyIterable(body: Body): AsyncIterable<Chunk> {
  if (Array.isArray(body)) {
    return (async function* arrayBody() {
      yield* body
    })()
  }
  return body
}

/**
 * Reads a whole body into one Buffer. Use it only where the whole body is truly needed
 * (a content hash, say); it buffers by definition.
 */
export async function readBody(body: Body): Promise<Buffer> {
  if (Array.isArray(body)) return Buffer.concat(body.map(toBytes))
  const parts: Uint8Array[] = []
  for await (const chunk of body) parts.push(toBytes(chunk))
  return Buffer.concat(parts)
}

/** Calls `return()` on an async-iterable body's iterator when it has one, so its `finally` blocks run. */
export async function closeIterator(iterator: AsyncIterator<unknown> | undefined): Promise<void> {
  if (iterator && typeof iterator.return === 'function') await iterator.return()
}

/**
 * Frees a body that will not be read (HEAD, 204, 304, a replaced or refused response): destroys
 * a node Readable (an `fs.ReadStream` included, which closes its file), cancels a web
 * ReadableStream, and calls `return()` on any other async iterable's iterator so its `finally`
 * blocks run. Arrays and file bodies ({@link fileBody}) hold nothing open.
 * The freeing starts before this returns; the promise resolves once it is done. It never
 * throws or rejects and reports nothing itself: a failure goes to `onError` when given.
 */
export async function discardBody(body: unknown, onError?: (err: unknown) => void): Promise<void> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return
  try {
    // An fs.ReadStream is a node Readable like any other: its `path` makes it no file body.
    const b = body as { destroy?: unknown; pipe?: unknown; cancel?: unknown; getReader?: unknown }
    if (typeof b.destroy === 'function' && typeof b.pipe === 'function') b.destroy()
    else if (typeof b.cancel === 'function' && typeof b.getReader === 'function') await b.cancel()
    else if (isAsyncIterable(body) && !isFileBody(body)) await closeIterator(body[Symbol.asyncIterator]())
  } catch (err) {
    onError?.(err)
  }
}
