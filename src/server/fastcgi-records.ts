/**
 * The record layer of FastCGI 1.0 (the FastCGI Specification, Open Market, 1996): record
 * headers, padding, name-value pairs, and a parser that takes a connection's bytes in any
 * split and hands out whole records.
 *
 * Written here, not taken from npm: `node-fastcgi` imitates node:http's request and response
 * objects (the pipeline needs records, not another emulation to go through), and
 * `fastcgi-stream`, the record library under it, rests on the unmaintained `bufferlist` and
 * copies every record. This parser copies only a record split across reads.
 */

export const FCGI_VERSION = 1

/** Record types (spec 8). */
export const BEGIN_REQUEST = 1
export const ABORT_REQUEST = 2
export const END_REQUEST = 3
export const PARAMS = 4
export const STDIN = 5
export const STDOUT = 6
export const STDERR = 7
export const DATA = 8
export const GET_VALUES = 9
export const GET_VALUES_RESULT = 10
export const UNKNOWN_TYPE = 11

/** Roles of FCGI_BeginRequestBody. */
export const RESPONDER = 1
/** The flag of FCGI_BeginRequestBody: keep the connection open after the request. */
export const KEEP_CONN = 1

/** protocolStatus of FCGI_EndRequestBody. */
export const REQUEST_COMPLETE = 0
export const CANT_MPX_CONN = 1
export const OVERLOADED = 2
export const UNKNOWN_ROLE = 3

/** The largest content of one record. */
export const MAX_CONTENT = 65535
const HEADER = 8

/** An 8-byte record header for `length` bytes of content, padded to a multiple of 8. */
export function recordHeader(type: number, requestId: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER)
  header[0] = FCGI_VERSION
  header[1] = type
  header.writeUInt16BE(requestId, 2)
  header.writeUInt16BE(length, 4)
  header[6] = (8 - (length % 8)) % 8
  header[7] = 0
  return header
}

const PADDING = Buffer.alloc(8)

/** The padding that follows `length` bytes of content. */
export function padding(length: number): Buffer {
  return PADDING.subarray(0, (8 - (length % 8)) % 8)
}

/** One whole record, content included (for the small records the server makes itself). */
export function record(
  type: number,
  requestId: number,
  content: Uint8Array = PADDING.subarray(0, 0),
): Buffer {
  return Buffer.concat([recordHeader(type, requestId, content.length), content, padding(content.length)])
}

/** FCGI_END_REQUEST with `appStatus` and `protocolStatus`. */
export function endRequest(requestId: number, appStatus: number, protocolStatus: number): Buffer {
  const body = Buffer.alloc(8)
  body.writeUInt32BE(appStatus >>> 0, 0)
  body[4] = protocolStatus
  return record(END_REQUEST, requestId, body)
}

/** FCGI_UNKNOWN_TYPE answering a record of `type`. */
export function unknownType(type: number): Buffer {
  const body = Buffer.alloc(8)
  body[0] = type
  return record(UNKNOWN_TYPE, 0, body)
}

function lengthBytes(n: number): Buffer {
  if (n < 128) return Buffer.from([n])
  const b = Buffer.allocUnsafe(4)
  b.writeUInt32BE((n | 0x80000000) >>> 0, 0)
  return b
}

/** Name-value pairs in FastCGI's encoding (spec 3.4). */
export function encodePairs(pairs: Iterable<readonly [string, string]>): Buffer {
  const parts: Buffer[] = []
  for (const [name, value] of pairs) {
    const n = Buffer.from(name, 'latin1')
    const v = Buffer.from(value, 'latin1')
    parts.push(lengthBytes(n.length), lengthBytes(v.length), n, v)
  }
  return Buffer.concat(parts)
}

/**
 * Decodes name-value pairs (names and values as latin1: one character per octet, as CGI
 * variables are), or a message naming what is malformed.
 */
export function decodePairs(data: Buffer): Record<string, string> | string {
  const out: Record<string, string> = Object.create(null)
  let at = 0
  const length = (): number | undefined => {
    if (at >= data.length) return undefined
    const first = data[at]!
    if (first < 128) {
      at += 1
      return first
    }
    if (at + 4 > data.length) return undefined
    const n = data.readUInt32BE(at) & 0x7fffffff
    at += 4
    return n
  }
  while (at < data.length) {
    const nameLength = length()
    const valueLength = length()
    if (
      nameLength === undefined ||
      valueLength === undefined ||
      at + nameLength + valueLength > data.length
    ) {
      return 'a name-value pair runs past the end of its stream'
    }
    const name = data.toString('latin1', at, at + nameLength)
    at += nameLength
    out[name] = data.toString('latin1', at, at + valueLength)
    at += valueLength
  }
  return out
}

/** Receives the records a {@link RecordParser} finds. */
export type RecordHandler = (type: number, requestId: number, content: Buffer) => void

/**
 * Splits a byte stream into records. `push` takes each chunk as it was read; `onRecord` gets
 * every whole record, its content a view into the chunk where the record lay in one (copied
 * only when it spanned reads). A header with another version is malformed: `push` returns a
 * message and takes nothing more.
 */
export class RecordParser {
  private pending: Buffer | undefined
  private broken: string | undefined

  constructor(private readonly onRecord: RecordHandler) {}

  push(chunk: Buffer): string | undefined {
    if (this.broken !== undefined) return this.broken
    let data = chunk
    if (this.pending !== undefined) {
      data = Buffer.concat([this.pending, chunk])
      this.pending = undefined
    }
    let at = 0
    while (data.length - at >= HEADER) {
      if (data[at] !== FCGI_VERSION) {
        this.broken = `a record of FastCGI version ${data[at]} (only 1 is spoken)`
        return this.broken
      }
      const length = data.readUInt16BE(at + 4)
      const end = at + HEADER + length + data[at + 6]!
      if (end > data.length) break
      this.onRecord(
        data[at + 1]!,
        data.readUInt16BE(at + 2),
        data.subarray(at + HEADER, at + HEADER + length),
      )
      at = end
    }
    if (at < data.length) this.pending = Buffer.from(data.subarray(at))
    return undefined
  }

  /** Bytes of a record not yet whole. */
  get buffered(): number {
    return this.pending?.length ?? 0
  }
}
