/**
 * The fetch-API server adapter: turns a TSGI application into a `(Request, info?) => Response`
 * handler for any runtime that speaks the web fetch API (Bun, Deno, Cloudflare Workers), and
 * underlies the in-process test harness.
 *
 * The runtime owns framing, so `Transfer-Encoding` is dropped from the app's headers. Status and
 * headers are validated before anything is sent; a bad one gives a 500 and a message naming it
 * on `tsgi.errors`. Statuses outside 200–599 cannot be expressed by a web `Response` and are
 * treated the same way.
 *
 * @example Bun.serve({ fetch: toFetchHandler(app) })
 * @example Deno.serve((req, info) => handler(req, { remoteAddress: info.remoteAddr.hostname }))
 * @example export default { fetch: (req, _env, ctx) => handler(req, { waitUntil: (p) => ctx.waitUntil(p) }) }
 */
import { arrayBodyLength, isAsyncIterable, isPromiseLike } from '../body.js'
import { headerExists, headerSet, toWebHeaders, validateHead } from '../headers.js'
import { errorStatus, HttpError } from '../http-error.js'
import { statusText, statusWithNoEntityBody } from '../status.js'
import type { App, Delayed, Env, ErrorStream, Head, HeaderList, Responder, Triple, Writer } from '../types.js'
import { discardBody, iterableStream, nullWriter, refusedWriter, writerStream } from './fetch-body.js'
import { type FetchInfo, fetchEnv } from './fetch-env.js'
import { Exchange, logError } from './fetch-exchange.js'
import { declaredLength, isContentLength, isTransferEncoding, lengthMismatch } from './framing.js'

export type { FetchInfo } from './fetch-env.js'

/** Options of {@link toFetchHandler}. */
export interface FetchHandlerOptions {
  /** The `tsgi.errors` stream. @default writes to `process.stderr` where there is one */
  readonly errors?: ErrorStream
}

/** A fetch-API request handler. */
export type FetchHandler = (request: globalThis.Request, info?: FetchInfo) => Promise<globalThis.Response>

const stderr: ErrorStream = { write: (m) => globalThis.process?.stderr?.write(m) }
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/
const encoder = new TextEncoder()

/** Wraps `app` as a fetch-API handler. */
export function toFetchHandler(app: App, options: FetchHandlerOptions = {}): FetchHandler {
  if (typeof app !== 'function') throw new TypeError('toFetchHandler: app must be a function')
  if (options.errors !== undefined && typeof options.errors?.write !== 'function') {
    throw new TypeError('toFetchHandler: option errors must have a write(message) method')
  }
  const errors = options.errors ?? stderr
  return async function tsgiFetch(request, info = {}) {
    const ex = new Exchange(request, info)
    const env = fetchEnv(request, info, errors, ex.signal)
    if (env === undefined) return plain(400)
    ex.attach(env)
    try {
      const result = await app(env)
      return typeof result === 'function' ? await delayed(result, env, ex) : toResponse(result, env, ex)
    } catch (err) {
      return failure(err, env, ex)
    }
  }
}

function envErrors(env: Env): ErrorStream {
  const errors = env['tsgi.errors']
  return typeof errors?.write === 'function' ? errors : stderr
}

function reasonPhrase(env: Env, status: number): string {
  const custom = env['tsgix.reason_phrase']
  return typeof custom === 'string' && REASON.test(custom) ? custom : statusText(status)
}

function headCheck(status: unknown, headers: unknown): string | undefined {
  const bad = validateHead(status, headers)
  if (bad !== undefined) return bad
  if ((status as number) < 200 || (status as number) > 599) {
    return `invalid status ${status as number}: a fetch-API response must be from 200 to 599`
  }
  return undefined
}

function bodyCheck(body: unknown): string | undefined {
  if (Array.isArray(body)) {
    const i = body.findIndex((c) => typeof c !== 'string' && !(c instanceof Uint8Array))
    return i < 0 ? undefined : `invalid body: chunk ${i} is not a string or Uint8Array`
  }
  return isAsyncIterable(body) ? undefined : 'invalid body: expected an array of chunks or an async iterable'
}

function plain(status: number, extra: HeaderList = []): globalThis.Response {
  const text = encoder.encode(statusText(status))
  const headers = toWebHeaders([
    ...extra,
    'Content-Type',
    'text/plain',
    'Content-Length',
    String(text.byteLength),
  ])
  return new globalThis.Response(statusWithNoEntityBody(status) ? null : text, {
    status,
    statusText: statusText(status),
    headers,
  })
}

/** The response could not be sent as the app made it: nothing of it goes out. */
function rejected(message: string, env: Env, ex: Exchange): globalThis.Response {
  logError(envErrors(env), `response rejected: ${message}`)
  ex.abort('server-error')
  return plain(500)
}

function failure(err: unknown, env: Env, ex: Exchange): globalThis.Response {
  const status = errorStatus(err) ?? 500
  if (status >= 500) {
    logError(envErrors(env), 'application error', err)
    ex.abort('server-error')
  } else ex.complete()
  const extra = err instanceof HttpError ? err.headers : []
  return validateHead(status, extra) === undefined ? plain(status, extra) : plain(status)
}

/**
 * The app's headers as web `Headers`, without the framing fields the runtime owns:
 * `Transfer-Encoding`, and `Content-Length` beside it (chunked framing wins, spec 5.2). A
 * message naming the field when the runtime refuses a value (one above U+00FF, say).
 */
function webHeaders(headers: HeaderList): globalThis.Headers | string {
  const chunked = headers.some((name, i) => i % 2 === 0 && isTransferEncoding(name))
  const out = new globalThis.Headers()
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (isTransferEncoding(name) || (chunked && isContentLength(name))) continue
    try {
      out.append(name, headers[i + 1]!)
    } catch (err) {
      return `invalid value for header ${JSON.stringify(name)}: ${err instanceof Error ? err.message : String(err)}`
    }
  }
  return out
}

function toResponse(triple: unknown, env: Env, ex: Exchange): globalThis.Response {
  const errors = envErrors(env)
  if (!Array.isArray(triple) || triple.length !== 3) {
    return rejected('the application must return [status, headers, body] or a function', env, ex)
  }
  const [status, headers, body] = triple as Triple
  const bad = headCheck(status, headers) ?? bodyCheck(body)
  if (bad !== undefined) {
    discardBody(body, errors)
    return rejected(bad, env, ex)
  }
  const noEntity = statusWithNoEntityBody(status)
  const noBody = noEntity || env.REQUEST_METHOD === 'HEAD'
  const declared = noBody ? undefined : declaredLength(headers)
  let payload: Uint8Array | ReadableStream<Uint8Array> | null = null
  const out = [...headers]
  if (Array.isArray(body)) {
    const length = arrayBodyLength(body)
    const mismatch = typeof declared === 'number' && declared !== length
    if (typeof declared === 'string' || mismatch) {
      return rejected(mismatch ? lengthMismatch(declared, length) : (declared as string), env, ex)
    }
    if (!noEntity && !headerExists(out, 'Content-Length') && !headerExists(out, 'Transfer-Encoding'))
      headerSet(out, 'Content-Length', String(length))
    if (!noBody) payload = Buffer.concat(body.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)))
  } else if (noBody) discardBody(body, errors)
  if (typeof declared === 'string') {
    discardBody(body, errors)
    return rejected(declared, env, ex)
  }
  const web = webHeaders(out)
  if (typeof web === 'string') {
    discardBody(body, errors)
    return rejected(web, env, ex)
  }
  if (!noBody && !Array.isArray(body)) payload = iterableStream(body, ex, errors, declared)
  // Node's typed arrays are generic over their buffer; the DOM's BodyInit names only ArrayBuffer.
  const response = new globalThis.Response(payload as BodyInit | null, {
    status,
    statusText: reasonPhrase(env, status),
    headers: web,
  })
  if (!(payload instanceof ReadableStream)) ex.complete()
  return response
}

function streaming(head: Head, env: Env, ex: Exchange): { response: globalThis.Response; writer: Writer } {
  const [status, headers] = head
  const noBody = statusWithNoEntityBody(status) || env.REQUEST_METHOD === 'HEAD'
  const bad = headCheck(status, headers) ?? (noBody ? undefined : declaredLength(headers))
  const web = typeof bad === 'string' ? bad : webHeaders(headers)
  if (typeof web === 'string') return { response: rejected(web, env, ex), writer: refusedWriter(web) }
  const init = { status, statusText: reasonPhrase(env, status), headers: web }
  if (noBody) return { response: new globalThis.Response(null, init), writer: nullWriter(ex) }
  const { stream, writer } = writerStream(ex, envErrors(env), typeof bad === 'number' ? bad : undefined)
  return { response: new globalThis.Response(stream, init), writer }
}

function delayed(run: Delayed, env: Env, ex: Exchange): Promise<globalThis.Response> {
  return new Promise((resolve) => {
    let responded = false
    const respond = ((res: unknown) => {
      if (responded) throw new Error('tsgi: respond() called twice')
      responded = true
      if (Array.isArray(res) && res.length === 2) {
        const { response, writer } = streaming(res as Head, env, ex)
        resolve(response)
        return writer
      }
      resolve(toResponse(res, env, ex))
      return undefined
    }) as Responder
    const fail = (err: unknown) => {
      if (!responded) {
        responded = true
        resolve(failure(err, env, ex))
      } else if (!ex.signal.aborted) {
        logError(envErrors(env), 'application error after responding', err)
        ex.abort('server-error')
      }
    }
    try {
      const ran = run(respond)
      if (isPromiseLike(ran)) Promise.resolve(ran).catch(fail)
    } catch (err) {
      fail(err)
    }
  })
}
