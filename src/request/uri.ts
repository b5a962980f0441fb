/**
 * Rebuilds the request URL from env, as Plack::Request's `uri` and `base`: scheme, the Host
 * header (else SERVER_NAME:SERVER_PORT), SCRIPT_NAME + PATH_INFO re-encoded, and QUERY_STRING.
 *
 * PATH_INFO and SCRIPT_NAME are decoded in env, so they are percent-encoded again, keeping `/`
 * and RFC 3986 sub-delimiters as they are; `%2F` in the original path reads back as `/` (env
 * cannot tell them apart). The result is a WHATWG `URL`, which lower-cases the host, drops a
 * default port and resolves `.`/`..` segments. A Host header that is not a plain host[:port]
 * (it is client input) is HttpError 400.
 */
import { HttpError } from '../http-error.js'
import type { Env } from '../types.js'

const encoder = new TextEncoder()
// Unreserved characters and the sub-delimiters kept by Plack: ^/;:@&=A-Za-z0-9$_.+!*'(),-
const KEEP = /[/;:@&=A-Za-z0-9$_.+!*'(),-]/
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s/?#@[\]\\%]+)(?::\d{0,5})?$/

/** Percent-encodes a decoded path for a URL, keeping `/` and sub-delimiters. */
export function encodePath(path: string): string {
  let out = ''
  for (const ch of path) {
    if (KEEP.test(ch)) out += ch
    else for (const b of encoder.encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

function authority(env: Env): string {
  const host = env.HTTP_HOST
  if (typeof host === 'string' && host !== '') {
    if (!HOST.test(host)) throw new HttpError(400, 'invalid Host header')
    return host
  }
  const name = env.SERVER_NAME || 'localhost'
  const port = env.SERVER_PORT || '80'
  return name.includes(':') && !name.startsWith('[') ? `[${name}]:${port}` : `${name}:${port}`
}

function origin(env: Env): string {
  const scheme = env['tsgi.url_scheme'] === 'https' ? 'https' : 'http'
  return `${scheme}://${authority(env)}`
}

function parse(text: string): URL {
  try {
    return new URL(text)
  } catch (err) {
    throw new HttpError(400, 'request URL cannot be rebuilt', { cause: err })
  }
}

/** The URL the application is mounted at: scheme, host and SCRIPT_NAME (or `/`). */
export function baseUrl(env: Env): URL {
  return parse(origin(env) + (encodePath(env.SCRIPT_NAME ?? '') || '/'))
}

/** The full request URL: scheme, host, SCRIPT_NAME + PATH_INFO and the query string. */
export function requestUrl(env: Env): URL {
  let path = encodePath(env.SCRIPT_NAME ?? '') + encodePath(env.PATH_INFO ?? '')
  if (!path.startsWith('/')) path = `/${path}`
  const query = env.QUERY_STRING ?? ''
  if (query !== '') path += `?${query.replaceAll('#', '%23')}`
  return parse(origin(env) + path)
}
