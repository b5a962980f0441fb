/**
 * Case-insensitive helpers on flat header lists (`[name, value, name, value, ...]`), as
 * Plack::Util::header_get/set/push/remove/exists. They edit the list in place and keep order.
 */
import type { HeaderList } from './types.js'

function same(a: string, lower: string): boolean {
  return a.length === lower.length && a.toLowerCase() === lower
}

/** The first value of `name`, or undefined. */
export function headerGet(headers: HeaderList, name: string): string | undefined {
  const key = name.toLowerCase()
  for (let i = 0; i < headers.length; i += 2) {
    if (same(headers[i]!, key)) return headers[i + 1]
  }
  return undefined
}

/** Every value of `name`, in order. */
export function headerGetAll(headers: HeaderList, name: string): string[] {
  const key = name.toLowerCase()
  const out: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    if (same(headers[i]!, key)) out.push(headers[i + 1]!)
  }
  return out
}

/** True when `name` is present. */
export function headerExists(headers: HeaderList, name: string): boolean {
  const key = name.toLowerCase()
  for (let i = 0; i < headers.length; i += 2) {
    if (same(headers[i]!, key)) return true
  }
  return false
}

/**
 * Sets `name` to `value`: the first occurrence is replaced in place and later ones removed;
 * when absent, the pair is appended.
 */
export function headerSet(headers: HeaderList, name: string, value: string): void {
  const key = name.toLowerCase()
  let found = false
  let w = 0
  for (let r = 0; r < headers.length; r += 2) {
    const n = headers[r]!
    if (same(n, key)) {
      if (found) continue
      found = true
      headers[w] = n
      headers[w + 1] = value
    } else {
      headers[w] = n
      headers[w + 1] = headers[r + 1]!
    }
    w += 2
  }
  headers.length = w
  if (!found) headers.push(name, value)
}

/** Appends a `name: value` pair, keeping any earlier ones. */
export function headerPush(headers: HeaderList, name: string, value: string): void {
  headers.push(name, value)
}

/** Removes every occurrence of `name`. Returns true when something was removed. */
export function headerRemove(headers: HeaderList, name: string): boolean {
  const key = name.toLowerCase()
  let w = 0
  for (let r = 0; r < headers.length; r += 2) {
    if (same(headers[r]!, key)) continue
    if (w !== r) {
      headers[w] = headers[r]!
      headers[w + 1] = headers[r + 1]!
    }
    w += 2
  }
  const removed = w !== headers.length
  headers.length = w
  return removed
}

/** Calls `fn(name, value)` for every pair, in order. */
export function headerIter(headers: HeaderList, fn: (name: string, value: string) => void): void {
  for (let i = 0; i < headers.length; i += 2) fn(headers[i]!, headers[i + 1]!)
}

/** A web `Headers` object from a flat list (for fetch-API bridges and tests). */
export function toWebHeaders(headers: HeaderList): globalThis.Headers {
  const out = new globalThis.Headers()
  for (let i = 0; i < headers.length; i += 2) out.append(headers[i]!, headers[i + 1]!)
  return out
}

/** A flat list from a web `Headers` object (`set-cookie` values kept apart). */
export function fromWebHeaders(headers: globalThis.Headers): HeaderList {
  const out: HeaderList = []
  for (const [name, value] of headers) {
    if (name === 'set-cookie') continue
    out.push(name, value)
  }
  for (const cookie of headers.getSetCookie()) out.push('set-cookie', cookie)
  return out
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const BAD_VALUE = /[\r\n\0]/

/** True when `name` is an RFC 9110 token (a valid field name). */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name)
}

/** True when `value` holds no CR, LF or NUL. */
export function isHeaderValue(value: string): boolean {
  return !BAD_VALUE.test(value)
}

/**
 * Checks a status and header list as the spec requires before anything is written.
 * Returns undefined when valid, or a message that names the bad status or header.
 */
export function validateHead(status: unknown, headers: unknown): string | undefined {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999) {
    return `invalid status ${JSON.stringify(status)}: must be an integer from 100 to 999`
  }
  if (!Array.isArray(headers))
    return `invalid headers: expected a flat array of strings, got ${typeof headers}`
  if (headers.length % 2 !== 0)
    return `invalid headers: odd length ${headers.length} (a name without a value)`
  for (let i = 0; i < headers.length; i += 2) {
    const name: unknown = headers[i]
    const value: unknown = headers[i + 1]
    if (typeof name !== 'string') return `invalid header name at index ${i}: not a string (${typeof name})`
    if (!TOKEN.test(name)) return `invalid header name ${JSON.stringify(name)}: not an RFC 9110 token`
    if (typeof value !== 'string') {
      return `invalid value for header ${JSON.stringify(name)}: not a string (${typeof value})`
    }
    if (BAD_VALUE.test(value)) {
      return `invalid value for header ${JSON.stringify(name)}: contains CR, LF or NUL`
    }
  }
  return undefined
}
