/**
 * ConditionalGET — answers `304 Not Modified` to a GET or HEAD whose validators match the
 * app's `200` response: `If-None-Match` against `ETag` (weak comparison, lists and `*`), or,
 * when there is no `If-None-Match`, `If-Modified-Since` against `Last-Modified` (HTTP-dates,
 * compared as instants). The 304 keeps the app's headers except the representation ones
 * (`Content-Type`, `Content-Length`, `Content-Disposition`, `Transfer-Encoding`) and has no body:
 * an async-iterable body is closed unread (`return()`, so its `finally` blocks run) and a
 * writer's chunks are swallowed.
 *
 * Env keys: reads `REQUEST_METHOD`, `HTTP_IF_NONE_MATCH`, `HTTP_IF_MODIFIED_SINCE` and
 * `tsgi.errors` (a body that fails to close is reported there); adds none.
 *
 * @example
 * builder(enable('ConditionalGET'), enable('ETag'), app)
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-13.1 (RFC 9110 §13.1, §13.2.2)
 * @see Plack::Middleware::ConditionalGET
 */
import { discardBody } from '../src/body.js'
import { headerGet, headerRemove } from '../src/headers.js'
import { parseHttpDate } from '../src/http-date.js'
import { checkOptions } from '../src/options.js'
import { type BodyFilter, responseCb } from '../src/response-cb.js'
import type { Env, HeaderList, Middleware } from '../src/types.js'

/** Options of {@link conditionalGet}: none, as in Plack. */
export type ConditionalGetOptions = Record<string, never>

/** Headers that describe the representation, removed from a 304. */
const REPRESENTATION_HEADERS = ['Content-Type', 'Content-Length', 'Content-Disposition', 'Transfer-Encoding']

const swallow: BodyFilter = () => null

/** Answers 304 Not Modified when the request's validators match the response. */
export function conditionalGet(options?: ConditionalGetOptions): Middleware {
  checkOptions('ConditionalGET', options, [])
  return (app) =>
    async function conditionalGet(env) {
      const res = await app(env)
      const method = env.REQUEST_METHOD
      if (method !== 'GET' && method !== 'HEAD') return res
      return responseCb(res, (parts) => {
        if (parts[0] !== 200 || !notModified(env, parts[1])) return
        parts[0] = 304
        for (const name of REPRESENTATION_HEADERS) headerRemove(parts[1], name)
        if (parts.length < 3) return swallow
        const body = parts[2]
        parts[2] = []
        if (body === undefined) return undefined
        return discardBody(body, (err) => {
          env['tsgi.errors'].write(`ConditionalGET: closing the response body failed: ${String(err)}\n`)
        })
      })
    }
}

/** True when the client's copy is current: RFC 9110 §13.2.2 steps 3 and 4, for GET and HEAD. */
function notModified(env: Env, headers: HeaderList): boolean {
  const ifNoneMatch = env.HTTP_IF_NONE_MATCH
  if (typeof ifNoneMatch === 'string') {
    const etag = headerGet(headers, 'ETag')
    return ifNoneMatch.trim() === '*' || (etag !== undefined && etagListMatches(ifNoneMatch, etag))
  }
  const ifModifiedSince = env.HTTP_IF_MODIFIED_SINCE
  const lastModified = headerGet(headers, 'Last-Modified')
  if (typeof ifModifiedSince !== 'string' || lastModified === undefined) return false
  // Some browsers append "; length=N": only the date counts.
  const since = parseHttpDate(ifModifiedSince.replace(/;.*$/s, '').trim())
  const modified = parseHttpDate(lastModified.trim())
  return since !== undefined && modified !== undefined && modified <= since
}

/**
 * True when one entity-tag of the `If-None-Match` list equals `etag` by weak comparison
 * (RFC 9110 §8.8.3.2: the `W/` prefixes are ignored, the opaque tags must be the same).
 * Unquoted tags, which some apps send, are compared as they are.
 */
function etagListMatches(list: string, etag: string): boolean {
  const wanted = opaque(etag.trim())
  let i = 0
  while (i < list.length) {
    const c = list[i]!
    if (c === ',' || c === ' ' || c === '\t') {
      i++
      continue
    }
    if (list.startsWith('W/', i)) i += 2
    const start = i
    let end: number
    if (list[i] === '"') {
      const close = list.indexOf('"', i + 1)
      end = close < 0 ? list.length : close + 1
    } else {
      const comma = list.indexOf(',', i)
      end = comma < 0 ? list.length : comma
    }
    if (list.slice(start, end).trim() === wanted) return true
    i = Math.max(end, i + 1)
  }
  return false
}

function opaque(etag: string): string {
  return etag.startsWith('W/') ? etag.slice(2) : etag
}
