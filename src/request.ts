/**
 * TsgiRequest — a request object over a TSGI env (Plack::Request). Accessors read env directly;
 * parsed results (query, cookies, body parameters, uploads, raw body) are cached in env, so
 * several TsgiRequest objects on one env, or a middleware and then the app, parse only once.
 *
 * Body methods are async. A body read whole (urlencoded, JSON, text, bytes) is limited by
 * `maxBodySize` and buffered: `tsgi.input` becomes re-readable and `tsgix.input.buffered` is set.
 * A multipart body is streamed: its files go to temporary files, removed by the server's cleanup
 * handlers or by {@link TsgiRequest.cleanup}.
 *
 * @example
 * const app: App = async (env) => {
 *   const req = new TsgiRequest(env)
 *   const name = (await req.param('name')) ?? 'world'
 *   return req.newResponse(200, ['Content-Type', 'text/plain'], `Hello ${name}`).finalize()
 * }
 */
import { parse as parseCookie } from 'cookie'
import type Negotiator from 'negotiator'
import { HttpError } from './http-error.js'
import { RequestAccessors, str } from './request/accessors.js'
import { parseBody } from './request/body-parser.js'
import { MultiMap } from './request/multi-map.js'
import { removeUploads } from './request/multipart.js'
import { bestMediaType, negotiatorFor } from './request/negotiate.js'
import { type BodyLimits, resolveLimits, type TsgiRequestOptions } from './request/options.js'
import { parseFormEncoded } from './request/query.js'
import { readRawBody } from './request/raw-body.js'
import type { TsgiUpload } from './request/upload.js'
import { baseUrl, requestUrl } from './request/uri.js'
import { type ResponseBody, type ResponseHeadersInit, TsgiResponse } from './response.js'
import type { Env } from './types.js'

export { MultiMap } from './request/multi-map.js'
export type { TsgiRequestOptions } from './request/options.js'
export { TsgiUpload } from './request/upload.js'

declare module './types.js' {
  interface Env {
    /** Parsed QUERY_STRING and the string it was parsed from. */
    'tsgix.request.query'?: { readonly source: string; readonly params: MultiMap<string> }
    /** Query and body parameters merged, query first. */
    'tsgix.request.merged'?: MultiMap<string>
    /** Parsed HTTP_COOKIE and the string it was parsed from. */
    'tsgix.request.cookies'?: { readonly source: string; readonly cookies: Record<string, string> }
  }
}

/** A request over a TSGI env, with parsing and body reading (Plack::Request). */
export class TsgiRequest extends RequestAccessors {
  readonly #limits: BodyLimits
  #negotiator: Negotiator | undefined

  constructor(env: Env, options?: TsgiRequestOptions) {
    super(env)
    this.#limits = resolveLimits(options)
  }

  /** The request cookies, name → decoded value; the first of duplicate names wins. Never throws. */
  get cookies(): Record<string, string> {
    const source = str(this.env.HTTP_COOKIE) ?? ''
    const cached = this.env['tsgix.request.cookies']
    if (cached !== undefined && cached.source === source) return cached.cookies
    const cookies: Record<string, string> = Object.create(null)
    for (const [name, value] of Object.entries(parseCookie(source))) {
      if (value !== undefined) cookies[name] = value
    }
    this.env['tsgix.request.cookies'] = { source, cookies }
    return cookies
  }

  /** The query parameters (parsed once per QUERY_STRING value). */
  get queryParameters(): MultiMap<string> {
    const source = this.env.QUERY_STRING ?? ''
    const cached = this.env['tsgix.request.query']
    if (cached !== undefined && cached.source === source) return cached.params
    const params = parseFormEncoded(source)
    this.env['tsgix.request.query'] = { source, params }
    return params
  }

  /** The body parameters (urlencoded or multipart; empty for other media types). */
  async bodyParameters(): Promise<MultiMap<string>> {
    await parseBody(this.env, this.#limits)
    return this.env['tsgix.request.body_parameters'] ?? new MultiMap()
  }

  /** Query and body parameters merged (query first). */
  async parameters(): Promise<MultiMap<string>> {
    const cached = this.env['tsgix.request.merged']
    if (cached !== undefined) return cached
    const body = await this.bodyParameters()
    const merged = new MultiMap([...this.queryParameters, ...body])
    this.env['tsgix.request.merged'] = merged
    return merged
  }

  /** With a name: the parameter's last value. Without: every parameter name. */
  param(): Promise<string[]>
  param(name: string): Promise<string | undefined>
  async param(name?: string): Promise<string[] | string | undefined> {
    const params = await this.parameters()
    return name === undefined ? [...params.keys()] : params.get(name)
  }

  /** The uploaded files of a multipart body. */
  async uploads(): Promise<MultiMap<TsgiUpload>> {
    await parseBody(this.env, this.#limits)
    return this.env['tsgix.request.uploads'] ?? new MultiMap()
  }

  /** With a name: the last file uploaded under it. Without: every upload field name. */
  upload(): Promise<string[]>
  upload(name: string): Promise<TsgiUpload | undefined>
  async upload(name?: string): Promise<string[] | TsgiUpload | undefined> {
    const uploads = await this.uploads()
    return name === undefined ? [...uploads.keys()] : uploads.get(name)
  }

  /** Removes this request's uploaded temporary files now (also done by the cleanup handlers). */
  cleanup(): Promise<void> {
    return removeUploads(this.env)
  }

  /** The request URL rebuilt from env (a new object each call). HttpError 400 on a bad Host header. */
  uri(): URL {
    return requestUrl(this.env)
  }

  /** The URL the application is mounted at (up to SCRIPT_NAME). */
  baseUri(): URL {
    return baseUrl(this.env)
  }

  /** A new {@link TsgiResponse}. */
  newResponse(status?: number, headers?: ResponseHeadersInit, body?: ResponseBody): TsgiResponse {
    return new TsgiResponse(status, headers, body)
  }

  /** The whole body as bytes (a copy), read once and cached. */
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await readRawBody(this.env, this.#limits.maxBodySize))
  }
  /** Alias of {@link bytes} (Plack's `content`). */
  content(): Promise<Uint8Array> {
    return this.bytes()
  }
  /** Alias of {@link bytes} (Plack's `raw_body`). */
  rawBody(): Promise<Uint8Array> {
    return this.bytes()
  }
  /** The whole body as an ArrayBuffer (a copy). */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes()
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  }

  /** The whole body as text, in the Content-Type charset (UTF-8 by default). */
  async text(): Promise<string> {
    const bytes = await readRawBody(this.env, this.#limits.maxBodySize)
    const charset = /;\s*charset="?([^";\s]+)/i.exec(this.env.CONTENT_TYPE ?? '')?.[1]
    let decoder: TextDecoder
    try {
      decoder = new TextDecoder(charset ?? 'utf-8')
    } catch {
      decoder = new TextDecoder('utf-8')
    }
    return decoder.decode(bytes)
  }

  /** The body parsed as JSON; HttpError 400 when it is not valid JSON. */
  async json(): Promise<unknown> {
    const text = await this.text()
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      throw new HttpError(400, 'request body is not valid JSON', { cause: err })
    }
  }

  get #negotiation(): Negotiator {
    this.#negotiator ??= negotiatorFor(this.env)
    return this.#negotiator
  }
  /** The best of the offered media types (or extensions such as `'json'`) for Accept, or undefined. */
  accepts(types: readonly string[]): string | undefined {
    return bestMediaType(this.#negotiation, types)
  }
  /** The best of the offered content codings for Accept-Encoding, or undefined. */
  acceptsEncodings(encodings: readonly string[]): string | undefined {
    return this.#negotiation.encoding(encodings)
  }
  /** The best of the offered languages for Accept-Language, or undefined. */
  acceptsLanguages(languages: readonly string[]): string | undefined {
    return this.#negotiation.language(languages)
  }
  /** The best of the offered charsets for Accept-Charset, or undefined. */
  acceptsCharsets(charsets: readonly string[]): string | undefined {
    return this.#negotiation.charset(charsets)
  }
}
