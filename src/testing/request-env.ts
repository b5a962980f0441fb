/**
 * requestEnv — a complete TSGI env for a request, built without a server (Plack's
 * HTTP::Request::Common with req_to_psgi), so a test can call an app or a middleware directly:
 * `await app(requestEnv({ method: 'POST', url: '/items', body: 'a=1' }))`.
 *
 * Every key the spec requires is there, with the values a server would give for the same
 * request: PATH_INFO percent-decoded once (a malformed escape stays as it is, bytes that are
 * not UTF-8 become U+FFFD, as the fetch adapter does), REQUEST_URI and QUERY_STRING as sent, the
 * headers as `HTTP_*` (duplicates joined), CONTENT_LENGTH from the body, `tsgi.input` reading
 * the body once, `tsgix.cleanup.handlers` ready to collect handlers (nobody runs them: a test
 * that cares runs them itself).
 */
import { toBytes } from '../body.js'
import { isHeaderName, isHeaderValue } from '../headers.js'
import { plainTarget, splitHost } from '../server/node-env.js'
import { decodePath } from '../server/path.js'
import type { Chunk, Env, ErrorStream, HeaderList, InputStream } from '../types.js'

/** An error stream that keeps what is written, for a test to look at. */
export class ErrorSink implements ErrorStream {
  /** Every message, in order. */
  readonly messages: string[] = []

  write(message: string): boolean {
    this.messages.push(String(message))
    return true
  }

  /** Everything written, joined. */
  text(): string {
    return this.messages.join('')
  }
}

/** Request headers: a flat list (`['Accept', 'text/html', ...]`) or an object of names to values. */
export type RequestHeaders = HeaderList | Readonly<Record<string, string | readonly string[]>>

/** A request body: bytes or text (UTF-8), a list of chunks, or a stream of chunks (sent chunked). */
export type RequestBody = string | Uint8Array | readonly Chunk[] | AsyncIterable<Chunk>

/** What the request is. */
export interface RequestEnvOptions {
  /** The method, as sent. @default 'GET' */
  readonly method?: string | undefined
  /**
   * A request target (`'/a%20b?x=1'`, `'*'`, or `'host:443'` for CONNECT), taken byte for byte,
   * or an absolute URL whose scheme, host and port become `tsgi.url_scheme`, `SERVER_NAME`,
   * `SERVER_PORT` and the `Host` header. @default '/'
   */
  readonly url?: string | URL | undefined
  /** Request headers. `Host` defaults to the URL's host (`localhost` for a bare path). */
  readonly headers?: RequestHeaders | undefined
  /** The request body; CONTENT_LENGTH is set from it unless a `Content-Length` header is given. */
  readonly body?: RequestBody | undefined
  /** The mount point (`'/app'`): the URL's path must start with it; PATH_INFO gets the rest. @default '' */
  readonly scriptName?: string | undefined
  /** `tsgi.errors`. @default a new {@link ErrorSink} */
  readonly errors?: ErrorStream | undefined
  /** `tsgix.signal`; the key is absent unless given. */
  readonly signal?: AbortSignal | undefined
}

/**
 * The options, and any env key to set on top of what they give (`{ HTTP_X_FOO: 'a',
 * 'tsgi.streaming': false }`); a key given as `undefined` is removed.
 */
export type RequestEnvInput = RequestEnvOptions & { readonly [key: string]: unknown }

const OPTIONS = new Set(['method', 'url', 'headers', 'body', 'scriptName', 'errors', 'signal'])
const ABSOLUTE = /^(https?):\/\/([^/?#]*)(.*)$/is

function fail(option: string, must: string): never {
  throw new TypeError(`requestEnv: option ${option} must be ${must}`)
}

/** The headers as `[name, value]` pairs, checked. */
function headerPairs(headers: RequestHeaders | undefined): [string, string][] {
  const pairs: [string, string][] = []
  if (Array.isArray(headers)) {
    if (headers.length % 2 !== 0) fail('headers', 'a flat list of names and values')
    for (let i = 0; i < headers.length; i += 2) pairs.push([String(headers[i]), String(headers[i + 1])])
  } else if (headers !== undefined) {
    if (headers === null || typeof headers !== 'object') fail('headers', 'a header list or an object')
    for (const [name, value] of Object.entries(headers as Record<string, string | readonly string[]>)) {
      for (const v of typeof value === 'string' ? [value] : value) pairs.push([name, v])
    }
  }
  for (const [name, value] of pairs) {
    if (!isHeaderName(name) || !isHeaderValue(value)) fail('headers', `valid header fields, got ${name}`)
  }
  return pairs
}

/** The env key of a header name. */
function headerKey(name: string): string {
  const upper = name.toUpperCase().replaceAll('-', '_')
  return upper === 'CONTENT_LENGTH' || upper === 'CONTENT_TYPE' ? upper : `HTTP_${upper}`
}

function isStream(body: RequestBody): body is AsyncIterable<Chunk> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body
}

/** The body as `tsgi.input` (read once, as a real request body) and its length when known. */
function input(body: RequestBody | undefined): { input: InputStream; length: number | undefined } {
  if (body === undefined) return { input: chunkStream([]), length: undefined }
  if (isStream(body)) return { input: chunkStream(body), length: undefined }
  if (typeof body !== 'string' && !(body instanceof Uint8Array) && !Array.isArray(body)) {
    fail('body', 'a string, bytes, a list of chunks or an async iterable')
  }
  const chunks = (Array.isArray(body) ? body : [body as Chunk]).map(toBytes)
  return { input: chunkStream(chunks), length: chunks.reduce((n, c) => n + c.byteLength, 0) }
}

async function* chunkStream(chunks: Iterable<Chunk> | AsyncIterable<Chunk>): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) yield toBytes(chunk)
}

function checkOptions(options: RequestEnvInput): void {
  for (const key of Object.keys(options)) {
    if (/^[a-z][A-Za-z0-9]*$/.test(key) && !OPTIONS.has(key)) {
      throw new TypeError(`requestEnv: unknown option '${key}'`)
    }
  }
  const { method, url, scriptName, errors, signal } = options
  if (method !== undefined && (typeof method !== 'string' || !isHeaderName(method))) fail('method', 'a token')
  if (url !== undefined && typeof url !== 'string' && !(url instanceof URL)) fail('url', 'a string or a URL')
  if (scriptName !== undefined && (typeof scriptName !== 'string' || !/^(|\/.+)$/s.test(scriptName))) {
    fail('scriptName', "'' or a path starting with '/' (not '/')")
  }
  if (errors !== undefined && typeof errors?.write !== 'function') {
    fail('errors', 'an object with a write() method')
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) fail('signal', 'an AbortSignal')
}

/** A complete env for the request `options` describes. Bad options throw a `TypeError`. */
export function requestEnv(options: RequestEnvInput = {}): Env {
  checkOptions(options)
  const method = options.method ?? 'GET'
  const url = String(options.url ?? '/').replace(/#.*$/s, '')
  const absolute = ABSOLUTE.exec(url)
  const scheme = absolute?.[1]?.toLowerCase() === 'https' ? 'https' : 'http'
  const target = plainTarget(absolute ? `/${(absolute[3] ?? '').replace(/^\//, '')}` : url, method)
  const headers = headerPairs(options.headers)
  const given = (name: string) => headers.find(([n]) => n.toLowerCase() === name)?.[1]
  const host = given('host') ?? (absolute?.[2] || 'localhost')
  const [serverName, port] = splitHost(host)
  const { input: body, length } = input(options.body)

  const scriptName = options.scriptName ?? ''
  const path = target.pathInfo === '' ? '' : decodePath(target.pathInfo)
  if (path === undefined) fail('url', 'a path that percent-decodes to UTF-8')
  if (scriptName !== '' && !(path === scriptName || path.startsWith(`${scriptName}/`))) {
    fail('scriptName', `the start of the URL's path (${path})`)
  }
  const env: Env = {
    REQUEST_METHOD: method,
    SCRIPT_NAME: scriptName,
    PATH_INFO: path.slice(scriptName.length),
    REQUEST_URI: target.requestUri,
    QUERY_STRING: target.query,
    SERVER_NAME: serverName,
    SERVER_PORT: port || (scheme === 'https' ? '443' : '80'),
    SERVER_PROTOCOL: 'HTTP/1.1',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': scheme,
    'tsgi.input': body,
    'tsgi.errors': options.errors ?? new ErrorSink(),
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
    'tsgi.nonblocking': true,
    'tsgi.streaming': true,
    'tsgix.cleanup': true,
    'tsgix.cleanup.handlers': [],
    REMOTE_ADDR: '127.0.0.1',
    HTTP_HOST: host,
  }
  if (options.signal !== undefined) env['tsgix.signal'] = options.signal
  for (const [name, value] of headers) {
    const key = headerKey(name)
    if (key === 'HTTP_HOST') continue // the first one, set above
    const before = env[key]
    env[key] = typeof before === 'string' ? `${before}${key === 'HTTP_COOKIE' ? '; ' : ', '}${value}` : value
  }
  if (given('content-length') === undefined) {
    if (length !== undefined) env.CONTENT_LENGTH = String(length)
    else if (options.body !== undefined && given('transfer-encoding') === undefined) {
      env.HTTP_TRANSFER_ENCODING = 'chunked'
    }
  }
  for (const [key, value] of Object.entries(options)) {
    if (OPTIONS.has(key)) continue
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}
