/**
 * The TSGI env of a request a front end describes in CGI meta-variables (RFC 3875): the params
 * of a FastCGI request, or the environment of a CGI process. Shared by `tsgi/server/fastcgi`
 * and `tsgi/server/cgi`, with the fix-ups front ends need (as Plack's FCGI handler makes them):
 *
 * - `PATH_INFO` is taken from `REQUEST_URI` (its path, decoded once) below `SCRIPT_NAME` when
 *   that is where it lies: lighttpd merges repeated slashes in its `PATH_INFO`, and a front end
 *   that sets none mounts the app at `SCRIPT_NAME`. Otherwise the front end's `PATH_INFO`.
 * - `SCRIPT_NAME` loses a trailing `/` (spec 3.1); `QUERY_STRING` is always present, raw:
 *   REQUEST_URI's query where the front end's differs from it only in percent-encoding
 *   (lighttpd decodes unreserved characters in its `QUERY_STRING`).
 * - `HTTPS` `on` or `1` (or `REQUEST_SCHEME` `https`) makes `tsgi.url_scheme` `https`.
 * - `HTTP_CONTENT_TYPE` and `HTTP_CONTENT_LENGTH` are dropped (the unprefixed ones are the
 *   request's); an `Authorization` variable (Apache's `CGIPassAuth` style) becomes
 *   `HTTP_AUTHORIZATION`; a `SERVER_NAME` holding a port (lighttpd) loses it.
 * - Every other variable is kept as the front end gave it (`SERVER_SOFTWARE`, `DOCUMENT_ROOT`,
 *   `REMOTE_USER`, `HTTPS` …).
 */
import type { EarlyHints, Env, InputStream } from '../types.js'
import { type EnvConfig, newEnv, queryOf, setServer, splitHost, targetPath } from './node-env.js'
import { decodePath } from './path.js'
import { defineSignal } from './pipeline.js'

/** CGI meta-variables: names to values. */
export type CgiVariables = Readonly<Record<string, string | undefined>>

/** Keys the env is built from; the others are copied as they are. */
const OWN = new Set([
  'REQUEST_METHOD',
  'SCRIPT_NAME',
  'PATH_INFO',
  'REQUEST_URI',
  'QUERY_STRING',
  'SERVER_NAME',
  'SERVER_PORT',
  'SERVER_PROTOCOL',
  'CONTENT_LENGTH',
  'CONTENT_TYPE',
  'HTTP_CONTENT_LENGTH',
  'HTTP_CONTENT_TYPE',
  'Authorization',
])

/** Sends nothing: a front end has no way to pass a 103 on. */
function noEarlyHints(): void {}

/** `path` percent-encoded where a request target needs it (for a REQUEST_URI the front end left out). */
function encodePath(path: string): string {
  return encodeURI(path).replaceAll('?', '%3F').replaceAll('#', '%23')
}

/** `SCRIPT_NAME` without trailing slashes. */
function mountPoint(scriptName: string): string {
  let end = scriptName.length
  while (end > 0 && scriptName.charCodeAt(end - 1) === 47 /* / */) end--
  return scriptName.slice(0, end)
}

/**
 * The part of the decoded `path` below `scriptName` (at a segment boundary), or undefined when
 * the path does not lie below it.
 */
function below(path: string, scriptName: string): string | undefined {
  if (!path.startsWith(scriptName)) return undefined
  const rest = path.slice(scriptName.length)
  return rest === '' || rest.charCodeAt(0) === 47 /* / */ ? rest : undefined
}

/**
 * QUERY_STRING as the request target has it: the front end's, unless that is REQUEST_URI's
 * query with only its percent-encoding changed (lighttpd decodes unreserved characters), when
 * REQUEST_URI's is taken. A query the front end rewrote is kept.
 */
function rawQuery(given: string | undefined, requestUri: string | undefined): string {
  if (requestUri === undefined) return given ?? ''
  const raw = queryOf(requestUri)
  if (given === undefined || given === raw) return raw
  const decoded = decodePath(raw)
  return decoded !== undefined && decoded === decodePath(given) ? raw : given
}

/**
 * The env of a request described by `vars`, or undefined when its path does not percent-decode
 * (answer 400). `runOnce` is true for CGI (one request per process).
 */
export function cgiEnv(
  vars: CgiVariables,
  input: InputStream,
  config: EnvConfig,
  signalSource: { readonly signal: AbortSignal },
  runOnce: boolean,
  earlyHints: EarlyHints = noEarlyHints,
): Env | undefined {
  const scriptName = mountPoint(vars.SCRIPT_NAME ?? '')
  const givenPathInfo = vars.PATH_INFO ?? ''
  const query = rawQuery(vars.QUERY_STRING, vars.REQUEST_URI)
  const requestUri =
    vars.REQUEST_URI ?? `${encodePath(scriptName + givenPathInfo) || '/'}${query === '' ? '' : `?${query}`}`
  const decoded = decodePath(targetPath(requestUri))
  if (decoded === undefined) return undefined
  const pathInfo = below(decoded, scriptName) ?? givenPathInfo
  const https = /^(?:on|1)$/i.test(vars.HTTPS ?? '') || (vars.REQUEST_SCHEME ?? '').toLowerCase() === 'https'
  const env = newEnv(
    vars.REQUEST_METHOD ?? 'GET',
    scriptName,
    pathInfo,
    { requestUri, query },
    vars.SERVER_PROTOCOL ?? 'HTTP/1.1',
    https,
    input,
    config,
    earlyHints,
  )
  if (runOnce) env['tsgi.run_once'] = true
  defineSignal(env, signalSource)
  if (config.logger !== undefined) env['tsgix.logger'] = config.logger
  const bag = env as Record<string, unknown>
  for (const name in vars) {
    const value = vars[name]
    if (value !== undefined && !OWN.has(name)) bag[name] = value
  }
  const length = vars.CONTENT_LENGTH
  if (length !== undefined && length !== '') env.CONTENT_LENGTH = length
  const type = vars.CONTENT_TYPE
  if (type !== undefined && type !== '') env.CONTENT_TYPE = type
  const authorization = vars.Authorization
  if (authorization !== undefined && bag.HTTP_AUTHORIZATION === undefined)
    bag.HTTP_AUTHORIZATION = authorization
  const serverName = vars.SERVER_NAME
  if (serverName !== undefined && serverName !== '') {
    env.SERVER_NAME = splitHost(serverName)[0]
    env.SERVER_PORT = vars.SERVER_PORT || splitHost(serverName)[1] || (https ? '443' : '80')
  } else setServer(env, https, undefined, undefined)
  return env
}
