/**
 * RearrangeHeaders — sorts response headers into the "good practice" order of RFC 2616 §4.2 that
 * Plack takes from HTTP::Headers: general headers, then request, response and entity headers,
 * each in a fixed order, then every other header by name (case-insensitive). The sort is stable:
 * repeated headers (`Set-Cookie`) keep their relative order. Names and values are not changed.
 * Some old clients and caches were picky about header order; nothing requires it today.
 *
 * Env keys: none read, none added.
 *
 * @example
 * builder(enable('RearrangeHeaders'), app)
 * @see https://www.rfc-editor.org/rfc/rfc2616#section-4.2, Plack::Middleware::RearrangeHeaders
 */
import { checkOptions } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import type { HeaderList, Middleware } from '../src/types.js'

/** Options of {@link rearrangeHeaders}: none. */
export type RearrangeHeadersOptions = Record<string, never>

/** The known headers, in order: general, request, response, entity. */
export const HEADER_ORDER: readonly string[] = [
  ...[
    'Cache-Control',
    'Connection',
    'Date',
    'Pragma',
    'Trailer',
    'Transfer-Encoding',
    'Upgrade',
    'Via',
    'Warning',
  ],
  ...[
    'Accept',
    'Accept-Charset',
    'Accept-Encoding',
    'Accept-Language',
    'Authorization',
    'Expect',
    'From',
    'Host',
  ],
  ...['If-Match', 'If-Modified-Since', 'If-None-Match', 'If-Range', 'If-Unmodified-Since', 'Max-Forwards'],
  ...['Proxy-Authorization', 'Range', 'Referer', 'TE', 'User-Agent'],
  ...['Accept-Ranges', 'Age', 'ETag', 'Location', 'Proxy-Authenticate', 'Retry-After', 'Server', 'Vary'],
  ...['WWW-Authenticate'],
  ...['Allow', 'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Location', 'Content-MD5'],
  ...['Content-Range', 'Content-Type', 'Expires', 'Last-Modified'],
]

const RANK = new Map(HEADER_ORDER.map((name, i) => [name.toLowerCase(), i]))
const OTHER = HEADER_ORDER.length

/** Sorts a flat header list in place into {@link HEADER_ORDER}, others after by name. */
export function rearrange(headers: HeaderList): void {
  const pairs: { key: string; rank: number; name: string; value: string }[] = []
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    const key = name.toLowerCase()
    pairs.push({ key, rank: RANK.get(key) ?? OTHER, name, value: headers[i + 1]! })
  }
  pairs.sort((a, b) => a.rank - b.rank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  let w = 0
  for (const pair of pairs) {
    headers[w++] = pair.name
    headers[w++] = pair.value
  }
}

/** Rearranges the headers of every response. */
export function rearrangeHeaders(options: RearrangeHeadersOptions = {}): Middleware {
  checkOptions('RearrangeHeaders', options, [])
  return (app) =>
    function rearrangeHeaders(env) {
      return responseCb(app(env), (res) => rearrange(res[1]))
    }
}
