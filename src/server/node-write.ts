/**
 * Writes response bodies for the node server: array bodies in one `end` where possible,
 * async-iterable bodies with backpressure, and files through `fs.createReadStream`. Bodies
 * that must not be sent (HEAD, 1xx, 204, 304, aborted requests) are freed with `discardBody`
 * from `body.ts`.
 */
import { close, createReadStream, fstat, open } from 'node:fs'
import type { Writable } from 'node:stream'
import type { Chunk, FileBody, HeaderList } from '../types.js'
import { isContentLength, isTransferEncoding, lengthMismatch } from './framing.js'
import type { Exchange } from './node-exchange.js'

/** True for a chunk the server can write. */
export function isChunk(value: unknown): value is Chunk {
  return typeof value === 'string' || value instanceof Uint8Array
}

/** The byte length of a chunk. */
export function byteLength(chunk: Chunk): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
}

/**
 * The app's headers as they go to `writeHead`: `Transfer-Encoding` removed (node frames the
 * body itself) and, beside it, `Content-Length` too (chunked framing wins, spec 5.2);
 * `Content-Length` appended when `length` is given and the app set none. The app's list is
 * copied, never changed. Returns the list and whether the app asked for chunking.
 */
export function outHeaders(headers: HeaderList, length: number | undefined): [HeaderList, boolean] {
  let hasLength = false
  let te = false
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (isContentLength(name)) hasLength = true
    else if (isTransferEncoding(name)) te = true
  }
  let out = headers
  if (te) {
    out = []
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!
      if (isTransferEncoding(name) || isContentLength(name)) continue
      out.push(name, headers[i + 1]!)
    }
  }
  if (length !== undefined && !hasLength && !te) {
    if (out === headers) out = headers.slice()
    out.push('Content-Length', String(length))
  }
  return [out, te]
}

const NOT_VISIBLE = /[^\t\x20-\x7e]/
const NOT_FIELD = /[^\t\x20-\x7e\x80-\xff]/

/**
 * Checks header values against what node's `writeHead` accepts (tab, visible ASCII, U+0080 to
 * U+00FF), so that node never throws halfway through a head. A message naming the first value
 * it would refuse; else whether some value holds obs-text (U+0080 to U+00FF, one octet each).
 */
export function transportCheck(headers: HeaderList): string | boolean {
  let obsText = false
  for (let i = 1; i < headers.length; i += 2) {
    const value = headers[i]!
    if (!NOT_VISIBLE.test(value)) continue
    if (NOT_FIELD.test(value)) {
      return `invalid value for header ${JSON.stringify(headers[i - 1])}: node refuses control characters other than tab and characters above U+00FF`
    }
    obsText = true
  }
  return obsText
}

/** The byte length of an array body, or a message naming the first element that is not a chunk. */
export function measureArray(body: readonly unknown[]): number | string {
  let n = 0
  for (let i = 0; i < body.length; i++) {
    const chunk = body[i]
    if (typeof chunk === 'string') n += Buffer.byteLength(chunk)
    else if (chunk instanceof Uint8Array) n += chunk.byteLength
    else return `invalid body element at index ${i}: expected a string or Uint8Array, got ${typeName(chunk)}`
  }
  return n
}

/** A short description of a value's type for error messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value
}

/**
 * Streams an async-iterable body: the head goes out with the first non-empty chunk (so a body
 * that fails before it still gets a clean 500), and the next chunk is pulled only once the
 * socket took the last one.
 */
export async function streamIterable(ex: Exchange, body: AsyncIterable<unknown>): Promise<void> {
  const res = ex.res
  let it: AsyncIterator<unknown>
  try {
    it = body[Symbol.asyncIterator]()
  } catch (err) {
    ex.fail(err)
    return
  }
  ex.iterator = it
  try {
    for (;;) {
      const step = await it.next()
      if (ex.abortReason !== undefined) return
      if (step.done) break
      const chunk = step.value
      if (!isChunk(chunk)) {
        ex.closeIterator()
        throw new TypeError(`invalid body chunk: expected a string or Uint8Array, got ${typeName(chunk)}`)
      }
      if (chunk.length === 0) continue
      if (ex.declared !== undefined) {
        ex.sent += byteLength(chunk)
        if (ex.sent > ex.declared) {
          ex.closeIterator()
          throw new Error(lengthMismatch(ex.declared, ex.sent, true))
        }
      }
      if (!res.headersSent) {
        // Hold the head and first chunk until pending microtasks ran: a body that ends at once
        // then leaves in one write with its terminator, a longer one is delayed by nothing.
        res.cork()
        process.nextTick(uncork, res)
        if (!ex.writeHead(undefined)) return
      }
      if (!res.write(chunk)) await ex.waitDrain()
    }
    if (ex.declared !== undefined && ex.sent !== ex.declared) {
      throw new Error(lengthMismatch(ex.declared, ex.sent))
    }
  } catch (err) {
    ex.iterator = undefined
    if (ex.abortReason === undefined) ex.fail(err)
    return
  }
  ex.iterator = undefined
  if (!res.headersSent && !ex.writeHead(undefined)) return
  res.end()
}

/** Sends a file (or its `start..end` range, inclusive): opened and measured before the head goes out. */
export function sendFile(ex: Exchange, body: FileBody): void {
  open(body.path, 'r', (err, fd) => {
    if (err) return ex.fail(err)
    fstat(fd, (statErr, stat) => {
      if (statErr || !stat.isFile() || ex.abortReason !== undefined) {
        close(fd, ignore)
        if (statErr) ex.fail(statErr)
        else if (ex.abortReason === undefined)
          ex.fail(new Error(`FileBody ${body.path} is not a regular file`))
        return
      }
      const start = body.start ?? 0
      const last = Math.min(body.end ?? stat.size - 1, stat.size - 1)
      const length = Math.max(0, last - start + 1)
      const mismatch = ex.declared !== undefined && ex.declared !== length
      if (mismatch || !ex.writeHead(length)) {
        close(fd, ignore)
        if (mismatch) ex.invalid(lengthMismatch(ex.declared as number, length))
        return
      }
      if (length === 0 || ex.bodyless) {
        close(fd, ignore)
        ex.res.end()
        return
      }
      const stream = createReadStream('', { fd, start, end: last, highWaterMark: 64 * 1024 })
      ex.source = stream
      stream.on('error', (readErr) => ex.fail(readErr))
      stream.pipe(ex.res)
    })
  })
}

function ignore(): void {}

function uncork(res: Writable): void {
  if (res.writableCorked > 0) res.uncork()
}
