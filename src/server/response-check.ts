/**
 * The checks the pipeline runs on an application's response before a byte goes out (spec 5.1):
 * a one-pass check of the common plain head, the full checks with their messages, what the
 * wire itself accepts in header values and reason phrases, and array bodies' lengths.
 */
import { isHeaderName, validateHead } from '../headers.js'
import type { HeaderList } from '../types.js'
import { declaredLength, isContentLength, isTransferEncoding } from './framing.js'

/** A short description of a value's type for error messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value
}

/** Field names already seen to be tokens: apps send the same few names again and again. */
const knownNames = new Set<string>()
const NOT_VISIBLE = /[^\t\x20-\x7e]/
const NOT_FIELD = /[^\t\x20-\x7e\x80-\xff]/
const OBS_TEXT = /[\x80-\xff]/

/**
 * The common head, checked in one pass: a final status, known-good names, values of tab and
 * visible ASCII only, and no Content-Length or Transfer-Encoding. Anything else (valid or not)
 * takes the full checks of {@link checkHead}, which give the messages.
 */
export function isPlainHead(status: unknown, headers: unknown): boolean {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 999) return false
  if (!Array.isArray(headers) || headers.length % 2 !== 0) return false
  for (let i = 0; i < headers.length; i += 2) {
    const name: unknown = headers[i]
    const value: unknown = headers[i + 1]
    if (typeof name !== 'string' || typeof value !== 'string' || NOT_VISIBLE.test(value)) return false
    if (!knownNames.has(name)) {
      if (!isHeaderName(name)) return false
      if (knownNames.size < 1024) knownNames.add(name)
    }
    if ((name.length === 14 || name.length === 17) && (isContentLength(name) || isTransferEncoding(name))) {
      return false
    }
  }
  return true
}

/** What {@link checkHead} found in a valid head. */
export interface CheckedHead {
  /** Some value holds octets U+0080 to U+00FF. */
  readonly obsText: boolean
  /** The body length a `Content-Length` declares; undefined when none (or chunked). */
  readonly declared: number | undefined
}

/**
 * The full checks of a final response head: the spec's rules (`validateHead`), a final status,
 * values the wire can carry (tab, visible ASCII, U+0080 to U+00FF; anything else would make a
 * transport throw halfway through a head), and one coherent Content-Length. A message naming
 * the first problem, else what was found.
 */
export function checkHead(status: unknown, headers: unknown): CheckedHead | string {
  const problem = validateHead(status, headers)
  if (problem !== undefined) return problem
  if ((status as number) < 200 && status !== 101) {
    return `invalid status ${status as number}: a 1xx status is interim, not a final response (use tsgix.early_hints or tsgix.io)`
  }
  const obsText = wireValues(headers as HeaderList)
  if (typeof obsText === 'string') return obsText
  const declared = declaredLength(headers as HeaderList)
  if (typeof declared === 'string') return declared
  return { obsText, declared }
}

/**
 * Checks header values against what the wire carries (tab, visible ASCII, U+0080 to U+00FF):
 * a message naming the first value it cannot, else whether some value holds obs-text.
 */
export function wireValues(headers: HeaderList): string | boolean {
  let obsText = false
  for (let i = 1; i < headers.length; i += 2) {
    const value = headers[i]!
    if (!NOT_VISIBLE.test(value)) continue
    if (NOT_FIELD.test(value)) {
      return `invalid value for header ${JSON.stringify(headers[i - 1])}: control characters other than tab and characters above U+00FF cannot be sent`
    }
    obsText = true
  }
  return obsText
}

const BAD_REASON = /[^\t\x20-\x7e\x80-\xff]/

/**
 * Checks `tsgix.reason_phrase` (RFC 9112 §4): a message when it is set and not a valid phrase
 * (spec 3.5: the response is then invalid), else whether it holds obs-text.
 */
export function checkReason(reason: unknown): string | boolean {
  if (reason === undefined) return false
  if (typeof reason !== 'string' || BAD_REASON.test(reason)) {
    return `invalid tsgix.reason_phrase ${JSON.stringify(reason)}: must be a string without control characters`
  }
  return OBS_TEXT.test(reason)
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
