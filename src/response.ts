/**
 * TsgiResponse — builds a response step by step and turns it into a TSGI triple
 * (Plack::Response). Headers are a flat list edited with the header helpers; cookies are
 * serialized with `cookie`, one `Set-Cookie` header each, when {@link TsgiResponse.finalize} runs.
 *
 * Unlike Plack, `finalize` does not strip CR/LF from header values: the server validates every
 * header and answers 500 for a bad one, so an injection is never silently "fixed".
 *
 * @example
 * const res = new TsgiResponse(200)
 * res.contentType = 'text/html; charset=utf-8'
 * res.cookies.session = { value: id, httpOnly: true, sameSite: 'lax' }
 * res.body = '<p>Hello</p>'
 * return res.finalize()
 */
import { type SerializeOptions, serialize } from 'cookie'
import { fromWebHeaders, headerGet, headerPush, headerRemove, headerSet } from './headers.js'
import type { App, Chunk, FileBody, HeaderList, Triple } from './types.js'

/** What a TsgiResponse body may be: a string or bytes (wrapped in an array at finalize), or any TSGI body. */
export type ResponseBody = string | Uint8Array | Chunk[] | AsyncIterable<Chunk> | FileBody

/** Headers given to the constructor or the `headers` setter. */
export type ResponseHeadersInit =
  | HeaderList
  | Readonly<Record<string, string | readonly string[]>>
  | globalThis.Headers

/** A cookie to set: its value and `Set-Cookie` attributes. */
export interface ResponseCookie {
  /** The value; it is percent-encoded when serialized. */
  readonly value: string
  readonly domain?: string
  readonly path?: string
  /** Max-Age in seconds. */
  readonly maxAge?: number
  /** A Date, a date string, or milliseconds since the epoch. */
  readonly expires?: Date | string | number
  readonly secure?: boolean
  readonly httpOnly?: boolean
  readonly sameSite?: boolean | 'lax' | 'strict' | 'none'
  readonly partitioned?: boolean
  readonly priority?: 'low' | 'medium' | 'high'
}

function toHeaderList(init: ResponseHeadersInit): HeaderList {
  if (init instanceof globalThis.Headers) return fromWebHeaders(init)
  if (Array.isArray(init)) {
    if (init.length % 2 !== 0)
      throw new TypeError('TsgiResponse: headers must be a flat list of name, value pairs')
    return [...(init as HeaderList)]
  }
  const out: HeaderList = []
  for (const [name, value] of Object.entries(init as Record<string, string | readonly string[]>)) {
    if (typeof value === 'string') out.push(name, value)
    else for (const v of value) out.push(name, v)
  }
  return out
}

function expiresDate(name: string, expires: Date | string | number): Date {
  const date = expires instanceof Date ? expires : new Date(expires)
  if (Number.isNaN(date.getTime())) {
    throw new TypeError(
      `TsgiResponse: cookie ${JSON.stringify(name)} cannot be set: option expires is invalid`,
    )
  }
  return date
}

/**
 * One `Set-Cookie` value for a cookie given as a string or as a {@link ResponseCookie}. The value
 * is percent-encoded; a name or attribute that cannot go in the header (`;`, `=` in a name, CR,
 * LF, other controls, non-ASCII) throws a TypeError naming the cookie, and nothing is emitted.
 */
export function serializeCookie(name: string, cookie: string | ResponseCookie): string {
  try {
    if (typeof cookie === 'string') return serialize(name, cookie)
    const { value, expires, ...attributes } = cookie
    const options: SerializeOptions = { ...attributes }
    if (expires !== undefined) options.expires = expiresDate(name, expires)
    return serialize(name, value, options)
  } catch (err) {
    if (!(err instanceof TypeError) || err.message.startsWith('TsgiResponse:')) throw err
    // cookie's messages quote the bad input raw (CR/LF included); show it escaped instead.
    const what = err.message.replace(/:\s[\s\S]*$/, '')
    throw new TypeError(`TsgiResponse: cookie ${JSON.stringify(name)} cannot be set: ${what}`, { cause: err })
  }
}

export class TsgiResponse {
  /** The status code; `finalize` throws while it is unset. */
  status: number | undefined
  /** The body; undefined finalizes to an empty array. */
  body: ResponseBody | undefined
  #headers: HeaderList = []
  #cookies: Record<string, string | ResponseCookie> = Object.create(null)

  constructor(status?: number, headers?: ResponseHeadersInit, body?: ResponseBody) {
    this.status = status
    if (headers !== undefined) this.#headers = toHeaderList(headers)
    this.body = body
  }

  /** A JSON response: `Content-Type: application/json; charset=utf-8`. */
  static json(value: unknown, status = 200): TsgiResponse {
    return new TsgiResponse(
      status,
      ['Content-Type', 'application/json; charset=utf-8'],
      JSON.stringify(value),
    )
  }

  /** A plain-text response: `Content-Type: text/plain; charset=utf-8`. */
  static text(text: string, status = 200): TsgiResponse {
    return new TsgiResponse(status, ['Content-Type', 'text/plain; charset=utf-8'], text)
  }

  /** An HTML response: `Content-Type: text/html; charset=utf-8`. */
  static html(html: string, status = 200): TsgiResponse {
    return new TsgiResponse(status, ['Content-Type', 'text/html; charset=utf-8'], html)
  }

  /** Alias of {@link status}. */
  get code(): number | undefined {
    return this.status
  }
  set code(status: number | undefined) {
    this.status = status
  }

  /** Alias of {@link body}. */
  get content(): ResponseBody | undefined {
    return this.body
  }
  set content(body: ResponseBody | undefined) {
    this.body = body
  }

  /** The header list itself (flat, live); setting it replaces every header. */
  get headers(): HeaderList {
    return this.#headers
  }
  set headers(init: ResponseHeadersInit) {
    this.#headers = toHeaderList(init)
  }

  /** Reads the first value of a header, or sets it (replacing every earlier value). */
  header(name: string): string | undefined
  header(name: string, value: string): this
  header(name: string, value?: string): string | undefined | this {
    if (value === undefined) return headerGet(this.#headers, name)
    headerSet(this.#headers, name, value)
    return this
  }

  /** Adds a header, keeping earlier values of the same name. */
  pushHeader(name: string, value: string): this {
    headerPush(this.#headers, name, value)
    return this
  }

  /** Removes every value of a header. */
  removeHeader(name: string): this {
    headerRemove(this.#headers, name)
    return this
  }

  #setOrRemove(name: string, value: string | undefined): void {
    if (value === undefined) headerRemove(this.#headers, name)
    else headerSet(this.#headers, name, value)
  }

  /** The Content-Type header, as set (with parameters); undefined removes it. */
  get contentType(): string | undefined {
    return headerGet(this.#headers, 'Content-Type')
  }
  set contentType(value: string | undefined) {
    this.#setOrRemove('Content-Type', value)
  }

  /** The Content-Length header as a number; undefined removes it. */
  get contentLength(): number | undefined {
    const raw = headerGet(this.#headers, 'Content-Length')
    return raw !== undefined && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : undefined
  }
  set contentLength(value: number | undefined) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new TypeError(`TsgiResponse: contentLength must be a non-negative integer, got ${value}`)
    }
    this.#setOrRemove('Content-Length', value === undefined ? undefined : String(value))
  }

  /** The Content-Encoding header; undefined removes it. */
  get contentEncoding(): string | undefined {
    return headerGet(this.#headers, 'Content-Encoding')
  }
  set contentEncoding(value: string | undefined) {
    this.#setOrRemove('Content-Encoding', value)
  }

  /** The Location header, not normalized; undefined removes it. */
  get location(): string | undefined {
    return headerGet(this.#headers, 'Location')
  }
  set location(value: string | undefined) {
    this.#setOrRemove('Location', value)
  }

  /** Without arguments: the Location. With a URL: sets Location and the status (302 by default). */
  redirect(): string | undefined
  redirect(url: string, status?: number): this
  redirect(url?: string, status = 302): string | undefined | this {
    if (url === undefined) return this.location
    this.location = url
    this.status = status
    return this
  }

  /** Cookies to set, name → value or {@link ResponseCookie}; each becomes its own Set-Cookie header. */
  get cookies(): Record<string, string | ResponseCookie> {
    return this.#cookies
  }
  set cookies(cookies: Record<string, string | ResponseCookie>) {
    this.#cookies = Object.assign(Object.create(null), cookies)
  }

  /**
   * The TSGI triple: status, a copy of the headers plus one Set-Cookie per cookie, and the body
   * (a string or bytes wrapped in an array, nothing as `[]`). Throws when the status is unset or
   * a cookie cannot be serialized.
   */
  finalize(): Triple {
    if (this.status === undefined || this.status === 0) throw new Error('TsgiResponse: missing status')
    const headers = [...this.#headers]
    for (const [name, cookie] of Object.entries(this.#cookies)) {
      headers.push('Set-Cookie', serializeCookie(name, cookie))
    }
    const body = this.body
    if (body === undefined) return [this.status, headers, []]
    if (typeof body === 'string' || body instanceof Uint8Array) return [this.status, headers, [body]]
    return [this.status, headers, body]
  }

  /** An application that answers every request with this response. */
  toApp(): App {
    return () => this.finalize()
  }
}
