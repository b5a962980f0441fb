/**
 * The responses of the File app: a found file as 200 (whole), 206 (one range or
 * `multipart/byteranges`) or 416, with Content-Type, Content-Length, Last-Modified,
 * Accept-Ranges and, as configured, ETag, Content-Encoding and Vary; and the short plain-text
 * answers for refused requests.
 */
import type { Stats } from 'node:fs'
import { charset, lookup } from 'mime-types'
import { fileBody } from '../../body.js'
import type { Env, HeaderList, Triple } from '../../types.js'
import type { FileConfig } from './options.js'
import { negotiateVariant } from './precompressed.js'
import { contentRange, ifRangeMatches, multipartByteranges, parseRange, type RangeRequest } from './range.js'

const PLAIN: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'forbidden',
  404: 'not found',
  405: 'Method Not Allowed',
  416: 'Range Not Satisfiable',
}

/** A short text/plain response (Plack's bodies: `forbidden`, `not found`, `Bad Request`). */
export function plain(status: number, extra: HeaderList = []): Triple {
  const text = PLAIN[status] ?? String(status)
  return [status, ['Content-Type', 'text/plain', 'Content-Length', String(text.length), ...extra], [text]]
}

/** True for the methods a file can answer: GET and HEAD. */
export function readMethod(env: Env): boolean {
  return env.REQUEST_METHOD === 'GET' || env.REQUEST_METHOD === 'HEAD'
}

/** 405 with `Allow: GET, HEAD`. */
export function methodNotAllowed(): Triple {
  return plain(405, ['Allow', 'GET, HEAD'])
}

const HAS_CHARSET = /;\s*charset\s*=/i

/** The Content-Type for the file at `path`: configured, looked up, or text/plain; text types get a charset. */
export function contentTypeFor(config: FileConfig, path: string): string {
  const given = typeof config.contentType === 'function' ? config.contentType(path) : config.contentType
  if (given !== undefined && typeof given !== 'string') {
    throw new TypeError(`File: the contentType function returned ${typeof given} for ${path}, not a string`)
  }
  const type = given ?? (lookup(path) || 'text/plain')
  if (HAS_CHARSET.test(type)) return type
  const essence = type.split(';', 1)[0]!.trim()
  return essence.toLowerCase().startsWith('text/') || charset(essence)
    ? `${type}; charset=${config.encoding}`
    : type
}

/** The strong ETag of a file: size and modification time, and the content coding when there is one. */
export function etagOf(info: Stats, encoding: string | undefined): string {
  const base = `${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}`
  return `"${encoding ? `${base}-${encoding}` : base}"`
}

function rangeRequest(env: Env, size: number, etag: string, mtimeMs: number): RangeRequest {
  const range = env.HTTP_RANGE
  if (env.REQUEST_METHOD !== 'GET' || typeof range !== 'string') return { kind: 'none' }
  const ifRange = env.HTTP_IF_RANGE
  if (typeof ifRange === 'string' && !ifRangeMatches(ifRange, etag, mtimeMs)) return { kind: 'none' }
  return parseRange(range, size)
}

/**
 * The response for the regular file at `path` (real path `real`, stat `info`) under the real
 * root `root`.
 */
export async function serveFile(
  config: FileConfig,
  env: Env,
  root: string,
  path: string,
  real: string,
  info: Stats,
): Promise<Triple> {
  const type = contentTypeFor(config, path)
  const accept = typeof env.HTTP_ACCEPT_ENCODING === 'string' ? env.HTTP_ACCEPT_ENCODING : undefined
  const { variant, negotiable } = await negotiateVariant(
    path,
    { real, stat: info },
    root,
    config.precompressed,
    accept,
  )
  const size = variant.stat.size
  const etag = etagOf(variant.stat, variant.encoding)
  const headers: HeaderList = ['Content-Type', type]
  const tail: HeaderList = [
    'Last-Modified',
    new Date(variant.stat.mtimeMs).toUTCString(),
    'Accept-Ranges',
    'bytes',
  ]
  if (config.etag) tail.push('ETag', etag)
  if (variant.encoding) tail.push('Content-Encoding', variant.encoding)
  if (negotiable) tail.push('Vary', 'Accept-Encoding')

  const range = rangeRequest(env, size, etag, variant.stat.mtimeMs)
  if (range.kind === 'unsatisfiable') {
    return plain(416, [
      'Content-Range',
      `bytes */${size}`,
      ...(negotiable ? ['Vary', 'Accept-Encoding'] : []),
    ])
  }
  if (range.kind === 'ranges' && range.ranges.length === 1) {
    const r = range.ranges[0]!
    headers.push(
      'Content-Length',
      String(r.end - r.start + 1),
      ...tail,
      'Content-Range',
      contentRange(r, size),
    )
    return [206, headers, fileBody(variant.real, r)]
  }
  if (range.kind === 'ranges') {
    const multipart = multipartByteranges(variant.real, range.ranges, type, size)
    headers[1] = multipart.contentType
    headers.push('Content-Length', String(multipart.length), ...tail)
    return [206, headers, multipart.body]
  }
  headers.push('Content-Length', String(size), ...tail)
  return [200, headers, fileBody(variant.real)]
}
