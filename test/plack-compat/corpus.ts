/**
 * The request corpus of the Plack compatibility test: each request is sent to app.psgi under
 * plackup and to app.ts under the tsgi node server, and the responses are compared.
 */
import { STATIC_ROOT } from './fixtures/sub-apps.js'

/** One request of the corpus. */
export interface CorpusRequest {
  /** Unique, used by the known-differences table. */
  readonly id: string
  readonly method?: string
  /** Request target as sent (raw: not normalised or encoded by the client). */
  readonly path: string
  readonly headers?: Readonly<Record<string, string | string[]>>
  readonly body?: string
  /** Compare the order of header names too (after the server headers are removed). */
  readonly order?: boolean
  /** Needs Plack::Middleware::ETag on the Perl side. */
  readonly etag?: boolean
}

const get = (id: string, path: string, headers?: Record<string, string | string[]>): CorpusRequest =>
  headers ? { id, path, headers } : { id, path }
const head = (id: string, path: string, headers?: Record<string, string>): CorpusRequest =>
  headers ? { id, method: 'HEAD', path, headers } : { id, method: 'HEAD', path }
const basic = (credentials: string): Record<string, string> => ({ Authorization: `Basic ${credentials}` })

const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT'

const plain: CorpusRequest[] = [
  get('plain-hello', '/plain/hello'),
  head('plain-head', '/plain/hello'),
  ...[200, 201, 202, 400, 403, 404, 409, 410, 500, 502, 503].map((code) =>
    get(`plain-status-${code}`, `/plain/status/${code}`),
  ),
  get('plain-status-204', '/plain/status/204'),
  get('plain-status-304', '/plain/status/304'),
  get('plain-cookies', '/plain/cookies'),
  get('plain-redirect', '/plain/redirect'),
  get('plain-utf8', '/plain/utf8'),
  get('plain-echo-query', '/plain/echo?a=1&b=%20x&c'),
  get('plain-echo-encoded-path', '/plain/ech%6F?x=%2F'),
  get('plain-echo-header', '/plain/echo', { 'X-Compat': 'yes' }),
  get('plain-echo-dup-header', '/plain/echo', { 'X-Compat': ['one', 'two'] }),
  {
    id: 'plain-echo-post',
    method: 'POST',
    path: '/plain/echo?q=1',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'name=value&x=%20',
  },
  {
    id: 'plain-echo-put',
    method: 'PUT',
    path: '/plain/echo',
    headers: { 'Content-Type': 'text/plain' },
    body: 'put body',
  },
  { id: 'plain-echo-delete', method: 'DELETE', path: '/plain/echo' },
  get('plain-missing', '/plain/nope'),
  get('plain-die', '/plain/die'),
  get('root-missing', '/nowhere'),
]

const contentLength: CorpusRequest[] = [
  ...['array', 'stream', 'writer', 'file', 'empty', 'no-content', 'preset'].map((form) =>
    get(`cl-${form}`, `/cl/${form}`),
  ),
  head('cl-head-array', '/cl/array'),
  head('cl-head-file', '/cl/file'),
]

const OLDER = 'Tue, 20 Oct 2015 07:28:00 GMT'
const LATER = 'Thu, 22 Oct 2015 07:28:00 GMT'
const conditional: CorpusRequest[] = [
  get('cond-plain', '/cond/strong'),
  get('cond-etag-match', '/cond/etag-only', { 'If-None-Match': '"v1"' }),
  get('cond-etag-miss', '/cond/etag-only', { 'If-None-Match': '"v2"' }),
  get('cond-etag-list', '/cond/etag-only', { 'If-None-Match': '"x", "v1"' }),
  get('cond-etag-star', '/cond/etag-only', { 'If-None-Match': '*' }),
  head('cond-etag-head', '/cond/etag-only', { 'If-None-Match': '"v1"' }),
  { id: 'cond-etag-post', method: 'POST', path: '/cond/etag-only', headers: { 'If-None-Match': '"v1"' } },
  get('cond-weak-exact', '/cond/weak', { 'If-None-Match': 'W/"v1"' }),
  get('cond-weak-strong', '/cond/weak', { 'If-None-Match': '"v1"' }),
  get('cond-date-match', '/cond/date-only', { 'If-Modified-Since': LAST_MODIFIED }),
  get('cond-date-ie', '/cond/date-only', { 'If-Modified-Since': `${LAST_MODIFIED}; length=15` }),
  get('cond-date-later', '/cond/date-only', { 'If-Modified-Since': LATER }),
  get('cond-date-older', '/cond/date-only', { 'If-Modified-Since': OLDER }),
  get('cond-both-match', '/cond/strong', { 'If-None-Match': '"v1"', 'If-Modified-Since': LAST_MODIFIED }),
  get('cond-both-miss', '/cond/strong', { 'If-None-Match': '"v2"', 'If-Modified-Since': OLDER }),
  get('cond-both-tag-only', '/cond/strong', { 'If-None-Match': '"v1"' }),
  get('cond-both-ims-old', '/cond/strong', { 'If-None-Match': '"v1"', 'If-Modified-Since': OLDER }),
]

const etag: CorpusRequest[] = [
  { id: 'etag-array', path: '/etag/array', etag: true },
  { id: 'etag-empty', path: '/etag/empty', etag: true },
  { id: 'etag-no-content', path: '/etag/no-content', etag: true },
]

const jsonp: CorpusRequest[] = [
  get('jsonp-none', '/jsonp/json'),
  get('jsonp-callback', '/jsonp/json?callback=foo'),
  get('jsonp-callback-dotted', '/jsonp/json?x=1&callback=jQuery.cb[0]'),
  get('jsonp-callback-encoded', '/jsonp/json?callback=a%2Eb'),
  get('jsonp-callback-dollar', '/jsonp/json?callback=$.cb'),
  get('jsonp-callback-bad', '/jsonp/json?callback=alert(1)'),
  get('jsonp-other-key', '/jsonp/json?cb=foo'),
  get('jsonp-text', '/jsonp/text?callback=foo'),
]

const errors: CorpusRequest[] = [
  get('errdoc-404', '/errdoc/nope'),
  get('errdoc-500', '/errdoc/status/500'),
  get('errdoc-403', '/errdoc/status/403'),
  get('errdoc-ok', '/errdoc/hello'),
  get('errdoc-die', '/errdoc/die'),
  get('errsub-missing', '/errsub/missing'),
  get('errsub-ok', '/errsub/ok'),
  { id: 'errsub-post', method: 'POST', path: '/errsub/missing', body: 'x' },
  ...['404', '403', '302', '503', 'plain', 'delayed', 'ok'].map((what) => get(`exc-${what}`, `/exc/${what}`)),
]

const auth: CorpusRequest[] = [
  get('auth-none', '/auth/who'),
  get('auth-good', '/auth/who', basic('YWRtaW46czNjcmV0')),
  get('auth-bad-password', '/auth/who', basic('YWRtaW46d3Jvbmc=')),
  get('auth-no-colon', '/auth/who', basic('YWRtaW4=')),
  get('auth-lower-scheme', '/auth/who', { Authorization: 'basic YWRtaW46czNjcmV0' }),
  get('auth-bearer', '/auth/who', { Authorization: 'Bearer YWRtaW46czNjcmV0' }),
]

const filters: CorpusRequest[] = [
  ...['array', 'stream', 'writer', 'preset', 'no-content'].map((form) =>
    get(`chunked-${form}`, `/chunked/${form}`),
  ),
  ...['array', 'stream', 'writer', 'file', 'html', 'binary'].map((form) =>
    get(`filter-${form}`, `/filter/${form}`),
  ),
  { id: 'rearrange', path: '/rearrange/', order: true },
]

const gzip = { 'Accept-Encoding': 'gzip' }
const deflate: CorpusRequest[] = [
  get('deflate-gzip', '/deflate/text', gzip),
  get('deflate-deflate', '/deflate/text', { 'Accept-Encoding': 'deflate' }),
  get('deflate-none', '/deflate/text'),
  get('deflate-identity', '/deflate/text', { 'Accept-Encoding': 'identity' }),
  get('deflate-stream', '/deflate/stream', gzip),
  get('deflate-no-transform', '/deflate/no-transform', gzip),
  get('deflate-vary', '/deflate/vary', gzip),
  get('deflate-small', '/deflate/small', gzip),
  get('deflate-image', '/deflate/image', gzip),
  get('deflate-q0', '/deflate/text', { 'Accept-Encoding': 'gzip;q=0' }),
  get('deflate-browser', '/deflate/text', { 'Accept-Encoding': 'gzip, deflate, br' }),
  get('deflate-not-modified', '/deflate/not-modified', gzip),
]

const files: CorpusRequest[] = [
  get('cascade-first', '/cascade/a.txt'),
  get('cascade-second', '/cascade/b.txt'),
  head('cascade-head', '/cascade/b.txt'),
  get('cascade-last', '/cascade/hello'),
  get('cascade-none', '/cascade/zzz'),
  get('static-txt', '/static/files/hello.txt'),
  get('static-json', '/static/files/data.json'),
  get('static-html', '/static/files/page.html'),
  get('static-nested', '/static/files/sub/inner.txt'),
  head('static-head', '/static/files/hello.txt'),
  get('static-missing', '/static/files/nope.txt'),
  get('static-directory', '/static/files/sub'),
  get('static-dotdot', '/static/files/../errors/404.html'),
  get('static-dotdot-encoded', '/static/files/%2e%2e/errors/404.html'),
  get('static-nul', '/static/files/%00'),
  get('static-unmatched', '/static/other'),
  get('static-range', '/static/files/hello.txt', { Range: 'bytes=0-4' }),
  { id: 'static-post', method: 'POST', path: '/static/files/hello.txt', body: '' },
]

const accelMapping = {
  'X-Sendfile-Type': 'X-Accel-Redirect',
  'X-Accel-Mapping': `${STATIC_ROOT}/files=/protected`,
}
const internal: CorpusRequest[] = [
  get('recursive-forward', '/recursive/forward'),
  get('recursive-delayed-forward', '/recursive/delayed-forward'),
  get('recursive-include', '/recursive/include'),
  { id: 'recursive-post-forward', method: 'POST', path: '/recursive/forward?x=1', body: 'data' },
  get('sendfile-file', '/sendfile/file'),
  get('sendfile-not-file', '/sendfile/other'),
  get('accel-mapped', '/accel/file', accelMapping),
  get('accel-sendfile-type', '/accel/file', { 'X-Sendfile-Type': 'X-Sendfile' }),
  get('accel-none', '/accel/file'),
  get('map-app', '/map/app'),
  get('map-app-path', '/map/app/x?y=1'),
  get('map-sub', '/map/app/sub/y'),
  get('map-sub-exact', '/map/app/sub'),
  get('map-boundary', '/map/apple'),
  get('map-host', '/map/anything', { Host: 'compat.test' }),
  get('map-none', '/map/'),
]

/** The whole corpus. */
export const CORPUS: readonly CorpusRequest[] = [
  ...plain,
  ...contentLength,
  ...conditional,
  ...etag,
  ...jsonp,
  ...errors,
  ...auth,
  ...filters,
  ...deflate,
  ...files,
  ...internal,
]
