/**
 * Byte ranges for the File app (RFC 9110 §14): parsing `Range: bytes=...` against a file size,
 * the `If-Range` precondition, and the streamed `multipart/byteranges` body.
 *
 * Written by hand: the `range-parser` package is not a dependency, and the rules here (ignore
 * the header on any syntax error, merge overlapping ranges, cap the count) are few.
 */
import { randomBytes } from 'node:crypto'
import { fileBody } from '../../body.js'

/** One byte range, both ends inclusive. */
export interface ByteRange {
  readonly start: number
  readonly end: number
}

/** What a Range header asks of a file: nothing (send it all), something impossible, or ranges. */
export type RangeRequest =
  | { readonly kind: 'none' }
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'ranges'; readonly ranges: readonly ByteRange[] }

/** Beyond this many ranges the header is ignored and the whole file is sent. */
export const MAX_RANGES = 100

const NONE: RangeRequest = { kind: 'none' }
const SPEC = /^(\d*)-(\d*)$/

/**
 * Parses a Range header for a file of `size` bytes. A header with a unit other than `bytes` or
 * any malformed range is ignored (`none`), as RFC 9110 §14.2 allows; ranges that all start past
 * the end are `unsatisfiable`; overlapping or adjacent ranges are merged.
 */
export function parseRange(header: string, size: number): RangeRequest {
  const eq = header.indexOf('=')
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return NONE
  const specs = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (specs.length === 0 || specs.length > MAX_RANGES) return NONE
  const ranges: ByteRange[] = []
  for (const spec of specs) {
    const m = SPEC.exec(spec)
    if (!m) return NONE
    const [, first = '', last = ''] = m
    if (first === '' && last === '') return NONE
    if (first === '') {
      const suffix = Number(last)
      if (suffix > 0 && size > 0) ranges.push({ start: Math.max(0, size - suffix), end: size - 1 })
      continue
    }
    const start = Number(first)
    const end = last === '' ? Number.POSITIVE_INFINITY : Number(last)
    if (end < start) return NONE
    if (start < size) ranges.push({ start, end: Math.min(end, size - 1) })
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' }
  return { kind: 'ranges', ranges: merge(ranges) }
}

/** The ranges as given when none overlap or touch; otherwise sorted and merged. */
function merge(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length < 2) return ranges
  const sorted = [...ranges].sort((a, b) => a.start - b.start)
  let overlap = false
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.start <= sorted[i - 1]!.end + 1) overlap = true
  }
  if (!overlap) return ranges
  const out: ByteRange[] = [sorted[0]!]
  for (const r of sorted.slice(1)) {
    const prev = out[out.length - 1]!
    if (r.start <= prev.end + 1) out[out.length - 1] = { start: prev.start, end: Math.max(prev.end, r.end) }
    else out.push(r)
  }
  return out
}

/**
 * True when an `If-Range` value lets the range request proceed (RFC 9110 §13.1.5): a strong
 * entity tag equal to `etag`, or an HTTP-date equal to the file's modification time in seconds.
 * Weak tags and anything unparsable never match (the whole file is sent).
 */
export function ifRangeMatches(value: string, etag: string, mtimeMs: number): boolean {
  const v = value.trim()
  if (v.startsWith('"')) return v === etag
  if (v.startsWith('W/')) return false
  const date = Date.parse(v)
  return !Number.isNaN(date) && date === Math.floor(mtimeMs / 1000) * 1000
}

/** The `Content-Range` value of one range. */
export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`
}

/** A streamed `multipart/byteranges` body over the ranges of a file, with its exact length. */
export interface Multipart {
  readonly contentType: string
  readonly length: number
  readonly body: AsyncIterable<Uint8Array>
}

/** Builds the multipart body for `ranges` of the file at `path` (`size` bytes, type `type`). */
export function multipartByteranges(
  path: string,
  ranges: readonly ByteRange[],
  type: string,
  size: number,
): Multipart {
  const boundary = randomBytes(12).toString('hex')
  const heads = ranges.map((r, i) =>
    Buffer.from(
      `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: ${contentRange(r, size)}\r\n\r\n`,
    ),
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  let length = tail.byteLength
  for (let i = 0; i < ranges.length; i++)
    length += heads[i]!.byteLength + ranges[i]!.end - ranges[i]!.start + 1
  async function* parts(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < ranges.length; i++) {
      yield heads[i]!
      yield* fileBody(path, ranges[i]!)
    }
    yield tail
  }
  return {
    contentType: `multipart/byteranges; boundary=${boundary}`,
    length,
    body: { [Symbol.asyncIterator]: parts },
  }
}
