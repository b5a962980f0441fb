/**
 * Deflater — compresses response bodies with `br`, `gzip` or `deflate`, whichever the client's
 * `Accept-Encoding` prefers (negotiated with `negotiator`, so q-values, `identity;q=0` and `*`
 * count). Array bodies are compressed in one synchronous call; streams and writers go through
 * a zlib stream chunk by chunk, never buffered whole. `text/event-stream` responses (or all of
 * them, with `flush`) are flushed after every chunk, so each event reaches the client at once.
 *
 * Env keys read: `HTTP_ACCEPT_ENCODING`, `REQUEST_METHOD`, `tsgix.signal` (aborts the
 * compressor), `tsgix.no-compress` and `tsgix.compress-only-text-html` (declared here).
 *
 * @example
 * builder(enable('Deflater', { threshold: 512 }), app)
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-8.4 (RFC 9110 §8.4, Content-Encoding)
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-12.5.3 (RFC 9110 §12.5.3, Accept-Encoding)
 * @see Plack::Middleware::Deflater
 */
import Negotiator from 'negotiator'
import { arrayBodyLength, toBytes } from '../src/body.js'
import { headerExists, headerGet, headerGetAll, headerRemove, headerSet } from '../src/headers.js'
import { checkOptions, optionBoolean, optionNumber } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import { statusWithNoEntityBody } from '../src/status.js'
import type { Env, HeaderList, Middleware } from '../src/types.js'
import { CODINGS, type Coding, compressorFilter, compressSync, isCompressible } from './deflater/codec.js'

declare module '../src/types.js' {
  interface Env {
    /** Set to true (by the app or an outer middleware) to leave this response uncompressed. */
    'tsgix.no-compress'?: boolean
    /** Set to true to compress this response only when it is `text/html`. */
    'tsgix.compress-only-text-html'?: boolean
  }
}

export type { Coding } from './deflater/codec.js'

/** Options of {@link deflater}. */
export interface DeflaterOptions {
  /** The codings offered, in the server's order of preference (used when q-values tie). @default ['br', 'gzip', 'deflate'] */
  readonly encodings?: readonly Coding[]
  /** Array bodies (or responses with a `Content-Length`) smaller than this many bytes are sent as they are. @default 1024 */
  readonly threshold?: number
  /** zlib level for gzip and deflate, 0–9 (-1: zlib's default, 6). @default -1 */
  readonly level?: number
  /** Brotli quality, 0–11. @default 4 */
  readonly brotliQuality?: number
  /** Media types to compress (`'text/html'`, `'text/*'`), replacing mime-db's `compressible` flags. @default undefined (use mime-db) */
  readonly contentTypes?: readonly string[]
  /** Flush the compressor after every chunk of every stream (it always does for `text/event-stream`). @default false */
  readonly flush?: boolean
}

const NAME = 'Deflater'
const NO_TRANSFORM = /(?:^|,)\s*no-transform\s*(?:,|$)/i

/** Compresses responses the client accepts compressed. */
export function deflater(options?: DeflaterOptions): Middleware {
  const opts = checkOptions(NAME, options, [
    'encodings',
    'threshold',
    'level',
    'brotliQuality',
    'contentTypes',
    'flush',
  ])
  const encodings = readEncodings(opts.encodings)
  const threshold = optionNumber(NAME, opts, 'threshold', { integer: true, min: 0 }) ?? 1024
  const level = optionNumber(NAME, opts, 'level', { integer: true, min: -1, max: 9 }) ?? -1
  const quality = optionNumber(NAME, opts, 'brotliQuality', { integer: true, min: 0, max: 11 }) ?? 4
  const allowed = readContentTypes(opts.contentTypes)
  const flushAll = optionBoolean(NAME, opts, 'flush') ?? false
  const offers = [...encodings, 'identity']
  const settings = { level, quality }

  const eligible = (env: Env, headers: HeaderList): string | undefined => {
    const type = (headerGet(headers, 'Content-Type') ?? '').split(';', 1)[0]!.trim().toLowerCase()
    if (type === '') return undefined
    if (env['tsgix.compress-only-text-html'] === true && type !== 'text/html') return undefined
    return allowed ? (matchesList(allowed, type) ? type : undefined) : isCompressible(type) ? type : undefined
  }

  return (app) =>
    async function deflater(env) {
      return responseCb(await app(env), (res) => {
        const [status, headers, body] = res
        if (statusWithNoEntityBody(status) || status === 206 || env['tsgix.no-compress'] === true) return
        if (NO_TRANSFORM.test(headerGet(headers, 'Cache-Control') ?? '')) return
        if (headerExists(headers, 'Content-Encoding')) return
        const type = eligible(env, headers)
        if (type === undefined) return
        addVary(headers)
        const declared = Number.parseInt(headerGet(headers, 'Content-Length') ?? '', 10)
        const size = Array.isArray(body) ? arrayBodyLength(body) : declared
        if (size < threshold) return
        const coding = negotiate(env, offers, encodings)
        if (coding === undefined) return
        headerSet(headers, 'Content-Encoding', coding)
        headerRemove(headers, 'Accept-Ranges')
        const tag = headerGet(headers, 'ETag')
        if (tag?.startsWith('"')) headerSet(headers, 'ETag', `W/${tag}`)
        if (Array.isArray(body)) {
          const out = compressSync(coding, Buffer.concat(body.map(toBytes)), settings)
          res[2] = [out]
          headerSet(headers, 'Content-Length', String(out.byteLength))
          return
        }
        const flush = flushAll || type === 'text/event-stream'
        return compressorFilter(coding, settings, flush, env['tsgix.signal'])
      })
    }
}

/** The coding to use, or undefined for identity (including when nothing offered is acceptable). */
function negotiate(env: Env, offers: readonly string[], preferred: readonly Coding[]): Coding | undefined {
  const header = env.HTTP_ACCEPT_ENCODING
  if (typeof header !== 'string' || header.trim() === '') return undefined
  const negotiator = new Negotiator({ headers: { 'accept-encoding': header } })
  // negotiator 1.x takes the server's preference as a second argument; @types/negotiator lacks it.
  const encodingsOf = negotiator.encodings as (
    this: Negotiator,
    available: readonly string[],
    options: { preferred: readonly string[] },
  ) => string[]
  const best = encodingsOf.call(negotiator, offers, { preferred: [...preferred, 'identity'] })[0]
  return best === undefined || best === 'identity' ? undefined : (best as Coding)
}

/** Appends `Accept-Encoding` to `Vary` unless it (or `*`) is there already. */
function addVary(headers: HeaderList): void {
  const values = headerGetAll(headers, 'Vary').filter((v) => v.trim() !== '')
  const fields = values.flatMap((v) => v.split(',')).map((f) => f.trim().toLowerCase())
  if (fields.includes('accept-encoding') || fields.includes('*')) return
  headerSet(headers, 'Vary', [...values, 'Accept-Encoding'].join(', '))
}

function matchesList(list: readonly string[], type: string): boolean {
  return list.some((t) => t === type || (t.endsWith('/*') && type.startsWith(t.slice(0, -1))))
}

function readEncodings(value: unknown): readonly Coding[] {
  if (value === undefined) return CODINGS
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((v, i) => CODINGS.includes(v as Coding) && value.indexOf(v) === i)
  if (!ok) {
    throw new TypeError(
      `${NAME}: option 'encodings' must be a non-empty array of distinct codings from 'br', 'gzip', 'deflate'`,
    )
  }
  return [...(value as Coding[])]
}

const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9a-z-]+\/(?:\*|[!#$%&'*+.^_`|~0-9a-z-]+)$/

function readContentTypes(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined
  const ok =
    Array.isArray(value) && value.every((v) => typeof v === 'string' && MEDIA_TYPE.test(v.toLowerCase()))
  if (!ok) {
    throw new TypeError(
      `${NAME}: option 'contentTypes' must be an array of media types ('text/html' or 'text/*')`,
    )
  }
  return (value as string[]).map((v) => v.toLowerCase())
}
