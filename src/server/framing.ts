/**
 * Response framing rules shared by the servers, free of any runtime API: the body length an
 * application's `Content-Length` declares (spec 5.3), and which headers a server drops because
 * it owns the framing (spec 5.2).
 */
import type { HeaderList } from '../types.js'

/** True for a `Content-Length` field name. */
export function isContentLength(name: string): boolean {
  return name.length === 14 && name.toLowerCase() === 'content-length'
}

/** True for a `Transfer-Encoding` field name. */
export function isTransferEncoding(name: string): boolean {
  return name.length === 17 && name.toLowerCase() === 'transfer-encoding'
}

const DIGITS = /^\d{1,15}$/

/**
 * The body length the app's headers declare: undefined when they declare none or ask for
 * chunking (which then wins, spec 5.2), a message when a `Content-Length` is not a number of
 * bytes or several disagree (no body could match it).
 */
export function declaredLength(headers: HeaderList): number | string | undefined {
  let declared: number | undefined
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (isTransferEncoding(name)) return undefined
    if (!isContentLength(name)) continue
    const value = headers[i + 1]!.trim()
    if (!DIGITS.test(value) || (declared !== undefined && Number(value) !== declared)) {
      return `invalid Content-Length ${JSON.stringify(headers[i + 1])}: must be one number of bytes`
    }
    declared = Number(value)
  }
  return declared
}

/** The message of a body whose length is not its declared `Content-Length`. */
export function lengthMismatch(declared: number, actual: number, more = false): string {
  return `body ${more ? 'longer than' : `of ${actual} bytes does not match`} its Content-Length ${declared}`
}

/** Field names a protocol without connection-level headers (HTTP/2) drops from a response. */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
])

/** True for a field HTTP/2 forbids in a response (RFC 9113 §8.2.2). */
export function isConnectionSpecific(name: string): boolean {
  return CONNECTION_SPECIFIC.has(name.toLowerCase())
}

/**
 * The app's headers as they go on the wire: `Transfer-Encoding` removed (the transport frames
 * the body) and `Content-Length` with it (chunked framing wins, spec 5.2); the fields `drop`
 * names removed too (HTTP/2's connection-specific ones); `Content-Length: length` appended when
 * `length` is given and the app declared no length. The app's list is copied, never changed.
 */
export function wireHeaders(
  headers: HeaderList,
  length: number | undefined,
  drop?: (name: string) => boolean,
): HeaderList {
  let hasLength = false
  let chunked = false
  let dropped = false
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (isContentLength(name)) hasLength = true
    else if (isTransferEncoding(name)) chunked = true
    else if (drop?.(name)) dropped = true
  }
  let out = headers
  if (chunked || dropped) {
    out = []
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!
      if (isTransferEncoding(name) || (chunked && isContentLength(name)) || drop?.(name)) continue
      out.push(name, headers[i + 1]!)
    }
  }
  if (length !== undefined && !hasLength && !chunked) {
    if (out === headers) out = headers.slice()
    out.push('Content-Length', String(length))
  }
  return out
}
