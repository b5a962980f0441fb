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

/** Writes into `out` at `at` the 8-byte record header for `length` bytes of content, padded to a multiple of 8. */
export function writeRecordHeader(
  out: Buffer,
  at: number,
  type: number,
  requestId: number,
  length: number,
): void {
  out[at] = FCGI_VERSION
  out[at + 1] = type
  out.writeUInt16BE(requestId, at + 2)
  out.writeUInt16BE(length, at + 4)
  out[at + 6] = (8 - (length % 8)) % 8
  out[at + 7] = 0
}

/** An 8-byte record header for `length` bytes of content, padded to a multiple of 8. */
export function recordHeader(type: number, requestId: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER)
  writeRecordHeader(header, 0, type, requestId, length)
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

/** The length of an FCGI_END_REQUEST record. */
export const END_REQUEST_LENGTH = 16

/** Writes into `out` at `at` FCGI_END_REQUEST with `appStatus` and `protocolStatus` (16 bytes). */
export function writeEndRequest(
  out: Buffer,
  at: number,
  requestId: number,
  appStatus: number,
  protocolStatus: number,
): void {
  writeRecordHeader(out, at, END_REQUEST, requestId, 8)
  out.writeUInt32BE(appStatus >>> 0, at + 8)
  out[at + 12] = protocolStatus
  out.fill(0, at + 13, at + 16)
}

/** FCGI_END_REQUEST with `appStatus` and `protocolStatus`. */
export function endRequest(requestId: number, appStatus: number, protocolStatus: number): Buffer {
  const out = Buffer.allocUnsafe(END_REQUEST_LENGTH)
  writeEndRequest(out, 0, requestId, appStatus, protocolStatus)
  return out
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

const PAST_THE_END = 'a name-value pair runs past the end of its stream'

/**
 * Decodes name-value pairs (names and values as latin1: one character per octet, as CGI
 * variables are), or a message naming what is malformed. The stream is decoded to text once
 * and the names and values are slices of it (one character per octet, so the octet offsets
 * hold): one native call per request rather than two per pair.
 */
export function decodePairs(data: Buffer): Record<string, string> | string {
  const out: Record<string, string> = Object.create(null)
  const end = data.length
  const text = data.toString('latin1')
  let at = 0
  while (at < end) {
    let nameLength = data[at]!
    if (nameLength < 128) at += 1
    else if (at + 4 > end) return PAST_THE_END
    else {
      nameLength = data.readUInt32BE(at) & 0x7fffffff
      at += 4
    }
    if (at >= end) return PAST_THE_END
    let valueLength = data[at]!
    if (valueLength < 128) at += 1
    else if (at + 4 > end) return PAST_THE_END
    else {
      valueLength = data.readUInt32BE(at) & 0x7fffffff
      at += 4
    }
    const valueAt = at + nameLength
    if (valueAt + valueLength > end) return PAST_THE_END
    out[text.slice(at, valueAt)] = text.slice(valueAt, valueAt + valueLength)
    at = valueAt + valueLength
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
