/**
 * The known, intended differences between tsgi and Plack on the corpus: corpus request id →
 * the fields that differ, tsgi's value (asserted) and, where it is stable across Perl and zlib
 * versions, Plack's (asserted too). Every other field of these responses must still match.
 * docs/plack-compat.md explains each reason.
 */
import type { Field } from './exchange.js'

/** Field → value; `undefined` for a header that is absent. */
export type FieldValues = Partial<Record<Field, string | undefined>>

/** One request's intended difference. */
export interface KnownDifference {
  /** Why tsgi differs, in a few words (the docs have the long form). */
  readonly reason: string
  /** tsgi's value of each differing field. */
  readonly tsgi: FieldValues
  /** Plack's value of the differing fields whose value is stable. */
  readonly plack?: FieldValues
}

const VALIDATED: FieldValues = {
  status: '200',
  reason: 'OK',
  body: 'validated body\n',
  'header content-type': 'text/plain',
}
const NOT_MODIFIED: FieldValues = {
  status: '304',
  reason: 'Not Modified',
  body: '',
  'header content-type': undefined,
}

function notModified(reason: string): KnownDifference {
  return { reason: `ConditionalGET: ${reason}`, tsgi: NOT_MODIFIED, plack: VALIDATED }
}

function charset(reason: string, type: string): KnownDifference {
  return {
    reason,
    tsgi: { 'header content-type': `${type}; charset=utf-8` },
    plack: { 'header content-type': type },
  }
}

/** JSONP: our charset, and `nosniff` so a browser runs the script only as script. */
function jsonp(): KnownDifference {
  return {
    reason: `${JSONP_TYPE}; nosniff on wrapped responses`,
    tsgi: {
      'header content-type': 'text/javascript; charset=utf-8',
      'header x-content-type-options': 'nosniff',
    },
    plack: { 'header content-type': 'text/javascript', 'header x-content-type-options': undefined },
  }
}

function acceptRanges(): KnownDifference {
  return {
    reason: 'File: byte ranges are supported and announced',
    tsgi: { 'header accept-ranges': 'bytes' },
    plack: { 'header accept-ranges': undefined },
  }
}

const SERVER_500 = 'the node server names the charset of its own 500'
const HTTP_EXCEPTION = 'HTTPExceptions names the charset of the text/plain error page'
const UNAUTHORIZED = 'Auth::Basic names the charset of the 401 page'
const JSONP_TYPE = 'JSONP: the wrapped body is UTF-8 and says so'
const SHA1_ARRAY = 'de9aaa19b8d3c06f77fb61bc6f64134b78f10b4d'
const SHA1_EMPTY = 'da39a3ee5e6b4b0d3255bfef95601890afd80709'
const LOREM_LENGTH = '3200'

export const KNOWN_DIFFERENCES: Readonly<Record<string, KnownDifference>> = {
  'plain-die': charset(SERVER_500, 'text/plain'),
  'errdoc-die': charset(SERVER_500, 'text/plain'),

  'cond-etag-list': notModified(
    'If-None-Match is a list of tags (RFC 9110 §13.1.2), Plack compares one string',
  ),
  'cond-etag-star': notModified('If-None-Match: * matches any current representation'),
  'cond-weak-strong': notModified('If-None-Match uses the weak comparison'),
  'cond-date-later': notModified('dates are compared as instants, a later If-Modified-Since matches'),
  'cond-both-tag-only': notModified(
    'a matching tag is enough; Plack wants every validator of the response matched',
  ),
  'cond-both-ims-old': notModified(
    'If-Modified-Since is ignored when If-None-Match is present (RFC 9110 §13.2.2)',
  ),

  'etag-array': {
    reason: 'ETag: entity tags are quoted strings (RFC 9110 §8.8.3)',
    tsgi: { 'header etag': `"${SHA1_ARRAY}"` },
    plack: { 'header etag': SHA1_ARRAY },
  },
  'etag-empty': {
    reason: 'ETag: entity tags are quoted strings (RFC 9110 §8.8.3)',
    tsgi: { 'header etag': `"${SHA1_EMPTY}"` },
    plack: { 'header etag': SHA1_EMPTY },
  },
  'etag-no-content': {
    reason: 'ETag: only 200 responses get a tag',
    tsgi: { 'header etag': undefined },
    plack: { 'header etag': SHA1_EMPTY },
  },

  'jsonp-callback': jsonp(),
  'jsonp-callback-dotted': jsonp(),
  'jsonp-callback-encoded': jsonp(),
  'jsonp-callback-dollar': {
    reason: 'JSONP: `$` is allowed in callback names',
    tsgi: {
      body: '/**/$.cb({"a":1})',
      'header content-length': '17',
      'header content-type': 'text/javascript; charset=utf-8',
      'header x-content-type-options': 'nosniff',
    },
    plack: {
      body: '{"a":1}',
      'header content-length': '7',
      'header content-type': 'application/json',
      'header x-content-type-options': undefined,
    },
  },

  'errdoc-404': charset('ErrorDocument types files with mime-types, charset included', 'text/html'),
  'errdoc-500': charset('ErrorDocument types files with mime-types, charset included', 'text/html'),

  'exc-404': charset(HTTP_EXCEPTION, 'text/plain'),
  'exc-403': charset(HTTP_EXCEPTION, 'text/plain'),
  'exc-302': charset(HTTP_EXCEPTION, 'text/plain'),
  'exc-503': charset(HTTP_EXCEPTION, 'text/plain'),
  'exc-plain': charset(HTTP_EXCEPTION, 'text/plain'),
  'exc-delayed': charset(HTTP_EXCEPTION, 'text/plain'),

  'auth-none': charset(UNAUTHORIZED, 'text/plain'),
  'auth-bad-password': charset(UNAUTHORIZED, 'text/plain'),
  'auth-no-colon': charset(UNAUTHORIZED, 'text/plain'),
  'auth-bearer': charset(UNAUTHORIZED, 'text/plain'),

  'deflate-vary': {
    reason: 'Deflater: list members are joined with ", " (both forms are valid)',
    tsgi: { 'header vary': 'Cookie, Accept-Encoding' },
    plack: { 'header vary': 'Cookie,Accept-Encoding' },
  },
  'deflate-small': {
    reason: 'Deflater: bodies under the 1024-byte threshold are sent as they are',
    tsgi: { 'header content-encoding': undefined, 'header content-length': '6' },
    plack: { 'header content-encoding': 'gzip' },
  },
  'deflate-image': {
    reason: 'Deflater: only types mime-db marks compressible are compressed',
    tsgi: {
      'header content-encoding': undefined,
      'header content-length': LOREM_LENGTH,
      'header vary': undefined,
    },
    plack: { 'header content-encoding': 'gzip', 'header vary': 'Accept-Encoding' },
  },
  'deflate-q0': {
    reason: 'Deflater: Accept-Encoding is negotiated with q-values; gzip;q=0 refuses gzip',
    tsgi: { 'header content-encoding': undefined, 'header content-length': LOREM_LENGTH },
    plack: { 'header content-encoding': 'gzip' },
  },
  'deflate-browser': {
    reason: 'Deflater: br is offered and preferred',
    tsgi: { 'header content-encoding': 'br' },
    plack: { 'header content-encoding': 'gzip' },
  },

  'cascade-first': acceptRanges(),
  'cascade-second': acceptRanges(),
  'cascade-head': acceptRanges(),
  'static-txt': acceptRanges(),
  'static-html': acceptRanges(),
  'static-nested': acceptRanges(),
  'static-head': acceptRanges(),
  'static-json': {
    reason: 'File: ranges are announced, and types with a mime-db charset get it',
    tsgi: { 'header accept-ranges': 'bytes', 'header content-type': 'application/json; charset=utf-8' },
    plack: { 'header accept-ranges': undefined, 'header content-type': 'application/json' },
  },
  'static-range': {
    reason: 'File: Range requests get 206 Partial Content (RFC 9110 §14)',
    tsgi: {
      status: '206',
      reason: 'Partial Content',
      body: 'Hello',
      'header accept-ranges': 'bytes',
      'header content-length': '5',
      'header content-range': 'bytes 0-4/26',
    },
    plack: { status: '200', body: 'Hello from a static file.\n', 'header content-range': undefined },
  },
  'static-post': {
    reason: 'File answers GET and HEAD only; other methods get 405 with Allow',
    tsgi: {
      status: '405',
      reason: 'Method Not Allowed',
      body: 'Method Not Allowed',
      'header allow': 'GET, HEAD',
      'header content-length': '18',
      'header content-type': 'text/plain',
      'header last-modified': undefined,
    },
    plack: { status: '200', body: 'Hello from a static file.\n', 'header allow': undefined },
  },
}
