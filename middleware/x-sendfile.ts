/**
 * XSendfile — hands file responses to the front-end server: for a whole-file {@link FileBody}
 * (made by `fileBody()`, as the File app and Static do), it sets `X-Sendfile` (Apache
 * mod_xsendfile, lighttpd), `X-Lighttpd-Send-File` or `X-Accel-Redirect` (nginx, with the file
 * path mapped to an internal URI) and sends an empty body with `Content-Length: 0`; the front
 * end then sends the file itself. Any other body passes untouched, an `fs.ReadStream`
 * included: its `path` makes it no file body, and the server streams and closes it.
 *
 * The variation comes from the `variation` option, else `env['tsgix.sendfile.type']`, else
 * (only with `trustRequestHeaders`) the `X-Sendfile-Type` request header set by the front end;
 * with none, responses pass untouched. Request headers are ignored by default: a client that
 * reaches the app past the front end, or through one that passes them on, would set them.
 *
 * Env keys read: `tsgix.sendfile.type` (declared here), `HTTP_X_SENDFILE_TYPE`,
 * `HTTP_X_ACCEL_MAPPING`, `tsgi.errors`.
 *
 * @example
 * builder(enable('XSendfile', { variation: 'X-Accel-Redirect', mapping: { '/srv/files/': '/protected/' } }), app)
 * @example
 * // nginx sets X-Sendfile-Type and X-Accel-Mapping on every proxied request:
 * builder(enable('XSendfile', { trustRequestHeaders: true }), app)
 * @see https://tn123.org/mod_xsendfile/ (X-Sendfile)
 * @see https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_ignore_headers (X-Accel-Redirect)
 * @see Plack::Middleware::XSendfile
 */
import { resolve } from 'node:path'
import { isFileBody } from '../src/body.js'
import { headerExists, headerSet, isHeaderValue } from '../src/headers.js'
import { checkOptions, optionBoolean, optionOneOf } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import type { Body, Env, Middleware } from '../src/types.js'

declare module '../src/types.js' {
  interface Env {
    /** The X-Sendfile variation to use for this request (set by a server adapter or outer middleware). */
    'tsgix.sendfile.type'?: string
  }
}

/** The response header a front end understands. */
export type SendfileVariation = 'X-Sendfile' | 'X-Lighttpd-Send-File' | 'X-Accel-Redirect'

/** Options of {@link xSendfile}. */
export interface XSendfileOptions {
  /** The header to set; when left out, it comes from the env or the `X-Sendfile-Type` request header. @default undefined */
  readonly variation?: SendfileVariation
  /** For `X-Accel-Redirect`: file path prefix → internal URI prefix; replaces the `X-Accel-Mapping` request header. @default undefined */
  readonly mapping?: Readonly<Record<string, string>>
  /**
   * Read `X-Sendfile-Type` and `X-Accel-Mapping` from the request. Turn on only when every
   * request comes through a front end that sets (or removes) both headers: otherwise a client
   * sends them itself and picks the internal location its file responses are mapped to.
   * @default false
   */
  readonly trustRequestHeaders?: boolean
}

const NAME = 'XSendfile'
const VARIATIONS: readonly SendfileVariation[] = ['X-Sendfile', 'X-Lighttpd-Send-File', 'X-Accel-Redirect']

/** Replaces file bodies with a header naming the file, for the front end to send. */
export function xSendfile(options?: XSendfileOptions): Middleware {
  const opts = checkOptions(NAME, options, ['variation', 'mapping', 'trustRequestHeaders'])
  const configured = optionOneOf(NAME, opts, 'variation', VARIATIONS)
  const mapping = readMapping(opts.mapping)
  const trust = optionBoolean(NAME, opts, 'trustRequestHeaders') ?? false

  const variationOf = (env: Env): string | undefined => {
    if (configured) return configured
    const fromEnv = env['tsgix.sendfile.type']
    if (typeof fromEnv === 'string' && fromEnv !== '') return fromEnv
    const fromRequest = env.HTTP_X_SENDFILE_TYPE
    return trust && typeof fromRequest === 'string' && fromRequest !== '' ? fromRequest : undefined
  }

  const mappingsOf = (env: Env): readonly (readonly [string, string])[] => {
    if (mapping) return mapping
    const header = env.HTTP_X_ACCEL_MAPPING
    return trust && typeof header === 'string' ? parseAccelMapping(header) : []
  }

  return (app) =>
    async function xSendfile(env) {
      return responseCb(await app(env), (res) => {
        const [, headers, body] = res
        const path = filePath(body)
        if (path === undefined) return
        const type = variationOf(env)
        if (type === undefined) return
        const variation = VARIATIONS.find((v) => v.toLowerCase() === type.trim().toLowerCase())
        if (variation === undefined) {
          env['tsgi.errors'].write(`${NAME}: unknown variation ${JSON.stringify(type)}\n`)
          return
        }
        if (headerExists(headers, variation)) return
        const value =
          variation === 'X-Accel-Redirect' ? mapAccelPath(mappingsOf(env), path) : latin1Bytes(path)
        if (value === undefined || !isHeaderValue(value)) {
          const why = value === undefined ? 'no X-Accel-Mapping matches' : 'cannot put in a header'
          env['tsgi.errors'].write(`${NAME}: ${why} ${JSON.stringify(path)}; sending the file as is\n`)
          return
        }
        headerSet(headers, variation, value)
        headerSet(headers, 'Content-Length', '0')
        res[2] = [] // a file body holds nothing open: dropping it frees it
      })
    }
}

/**
 * The absolute path of a whole-file body, or undefined for other bodies and for byte ranges
 * (the front end would send the whole file under the app's 206 headers).
 */
function filePath(body: Body | undefined): string | undefined {
  if (!isFileBody(body) || body.path === '') return undefined
  if ((body.start !== undefined && body.start > 0) || (body.end !== undefined && Number.isFinite(body.end)))
    return undefined
  return resolve(body.path)
}

/** Parses `X-Accel-Mapping: /real/path=/internal/uri, /other=/uri2`. */
export function parseAccelMapping(header: string): [string, string][] {
  const out: [string, string][] = []
  for (const part of header.split(',')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const from = part.slice(0, eq).trim()
    const to = part.slice(eq + 1).trim()
    if (from !== '' && to !== '') out.push([from, to])
  }
  return out
}

/**
 * The internal URI for `path` by the first mapping whose prefix matches (the rest of the path
 * percent-encoded, `?` and `#` included, as nginx decodes the URI), or undefined.
 */
export function mapAccelPath(
  mappings: readonly (readonly [string, string])[],
  path: string,
): string | undefined {
  for (const [from, to] of mappings) {
    if (!path.startsWith(from)) continue
    try {
      return to + encodeURI(path.slice(from.length)).replace(/[?#]/g, encodeURIComponent)
    } catch {
      return undefined
    }
  }
  return undefined
}

/** A path as its UTF-8 bytes, one character per byte, as header values are written. */
function latin1Bytes(path: string): string {
  return Buffer.from(path, 'utf8').toString('latin1')
}

function readMapping(value: unknown): readonly [string, string][] | undefined {
  if (value === undefined) return undefined
  const ok =
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.entries(value).every(([k, v]) => k !== '' && typeof v === 'string' && v !== '')
  if (!ok) {
    throw new TypeError(
      `${NAME}: option 'mapping' must be an object of file path prefix → internal URI prefix strings`,
    )
  }
  return Object.entries(value as Record<string, string>)
}
