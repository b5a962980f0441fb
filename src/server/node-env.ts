/**
 * Builds the TSGI env of a node:http request: a plain object with a fixed key order, filled in
 * one pass over `req.rawHeaders`. This is the node server's hot path: no URL parsing objects,
 * no fetch `Request`, header names turned into env keys once and cached.
 *
 * Header names holding `_` are dropped: `X_Forwarded_For` and `X-Forwarded-For` would both
 * become `HTTP_X_FORWARDED_FOR`, letting a client forge what a proxy set (Apache and nginx
 * drop them for the same reason).
 */
import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { EarlyHints, Env, ErrorStream, InputStream, Logger } from '../types.js'
import { decodePath } from './path.js'
import { defineSignal } from './pipeline.js'

/** What every env of one server shares. */
export interface EnvConfig {
  readonly errors: ErrorStream
  readonly logger: Logger | undefined
  readonly multiprocess: boolean
}

/** `tsgi.version`, shared by every env. */
export const VERSION: readonly [1, 0] = Object.freeze([1, 0] as const)
const CONTENT_LENGTH = 'CONTENT_LENGTH'
const CONTENT_TYPE = 'CONTENT_TYPE'
const HTTP_HOST = 'HTTP_HOST'
const HTTP_COOKIE = 'HTTP_COOKIE'
const DROP = ''

const keyCache = new Map<string, string>()

/** The env key for a raw header name ('' to drop it: names holding `_`, HTTP/2 pseudo-headers). */
function envKey(name: string): string {
  let key = keyCache.get(name)
  if (key !== undefined) return key
  const upper = name.toUpperCase()
  if (upper === 'CONTENT-LENGTH') key = CONTENT_LENGTH
  else if (upper === 'CONTENT-TYPE') key = CONTENT_TYPE
  else if (upper.includes('_') || upper.charCodeAt(0) === 58 /* : */) key = DROP
  else key = `HTTP_${upper.replaceAll('-', '_')}`
  if (keyCache.size < 1024) keyCache.set(name, key)
  return key
}

/**
 * Adds a flat raw header list to `env` as CGI keys, in one pass: repeated fields joined with
 * ', ' (Cookie with '; '), names that would be ambiguous or are pseudo-headers dropped.
 */
export function addHeaders(env: Env, raw: readonly string[]): void {
  const bag = env as Record<string, unknown>
  for (let i = 0; i < raw.length; i += 2) {
    const key = envKey(raw[i]!)
    if (key === DROP) continue
    const value = raw[i + 1]!
    const prev = bag[key]
    bag[key] = prev === undefined ? value : `${prev}${key === HTTP_COOKIE ? '; ' : ', '}${value}`
  }
}

/** The path of a request target (origin form, or absolute form as sent to proxies). */
export function targetPath(target: string): string {
  const q = target.indexOf('?')
  const path = q < 0 ? target : target.slice(0, q)
  if (path.charCodeAt(0) === 47 /* / */ || path === '*') return path
  const scheme = path.indexOf('://')
  if (scheme < 0) return path
  const slash = path.indexOf('/', scheme + 3)
  return slash < 0 ? '/' : path.slice(slash)
}

export function queryOf(target: string): string {
  const q = target.indexOf('?')
  return q < 0 ? '' : target.slice(q + 1)
}

/** An IPv4-mapped IPv6 address ('::ffff:1.2.3.4') in its IPv4 form. */
export function plainAddress(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr
}

/** Splits a Host header into name and port (brackets of an IPv6 literal kept); port '' when absent. */
export function splitHost(host: string): [name: string, port: string] {
  const close = host.charCodeAt(0) === 91 /* [ */ ? host.indexOf(']') : -1
  const colon = host.indexOf(':', close < 0 ? 0 : close)
  if (colon < 0 || (close < 0 && host.indexOf(':', colon + 1) >= 0)) return [host, '']
  return [host.slice(0, colon), host.slice(colon + 1)]
}

/** Where the request path comes from: `scriptName` and `pathInfo` are raw (not yet decoded). */
export interface EnvTarget {
  readonly scriptName: string
  readonly pathInfo: string
  readonly requestUri: string
  readonly query: string
}

/** The target split of a plain node request: SCRIPT_NAME '' and the whole path in PATH_INFO. */
export function plainTarget(url: string, method: string): EnvTarget {
  if (method === 'CONNECT') return { scriptName: '', pathInfo: '', requestUri: url, query: '' }
  return { scriptName: '', pathInfo: targetPath(url), requestUri: url, query: queryOf(url) }
}

/**
 * The split of a request under an Express/Connect mount: `req.url` is the part below the mount
 * point and `originalUrl` the whole target, so SCRIPT_NAME is what the mount removed.
 */
export function mountedTarget(url: string, originalUrl: string): EnvTarget {
  const whole = targetPath(originalUrl)
  const below = targetPath(url)
  let scriptName = ''
  let pathInfo = whole
  if (whole.endsWith(below)) {
    scriptName = whole.slice(0, whole.length - below.length)
    pathInfo = below
  } else if (below === '/') {
    scriptName = whole
    pathInfo = ''
  }
  return { scriptName, pathInfo, requestUri: originalUrl, query: queryOf(originalUrl) }
}

/**
 * A new env with every key the servers set, in one order for all of them (so envs share one
 * hidden class whatever the transport); `SERVER_NAME` and `SERVER_PORT` are filled later.
 */
export function newEnv(
  method: string,
  scriptName: string,
  pathInfo: string,
  target: { readonly requestUri: string; readonly query: string },
  protocol: string,
  https: boolean,
  input: InputStream,
  config: EnvConfig,
  earlyHints: EarlyHints,
): Env {
  return {
    REQUEST_METHOD: method,
    SCRIPT_NAME: scriptName,
    PATH_INFO: pathInfo,
    REQUEST_URI: target.requestUri,
    QUERY_STRING: target.query,
    SERVER_NAME: '',
    SERVER_PORT: '',
    SERVER_PROTOCOL: protocol,
    'tsgi.version': VERSION,
    'tsgi.url_scheme': https ? 'https' : 'http',
    'tsgi.input': input,
    'tsgi.errors': config.errors,
    'tsgi.multithread': false,
    'tsgi.multiprocess': config.multiprocess,
    'tsgi.run_once': false,
    'tsgi.nonblocking': true,
    'tsgi.streaming': true,
    'tsgix.cleanup': true,
    'tsgix.cleanup.handlers': [],
    'tsgix.input.buffered': false,
    'tsgix.early_hints': earlyHints,
  }
}

/**
 * The env of `req`, or undefined when its path does not percent-decode (answer 400).
 * `tsgix.signal` is read from `signalSource` only when the app first reads it, since making an
 * AbortSignal costs more than a small response; assigning the key replaces it as usual.
 */
export function buildEnv(
  req: IncomingMessage,
  config: EnvConfig,
  target: EnvTarget,
  signalSource: { readonly signal: AbortSignal },
  earlyHints: EarlyHints,
): Env | undefined {
  const pathInfo = decodePath(target.pathInfo)
  const scriptName = decodePath(target.scriptName)
  if (pathInfo === undefined || scriptName === undefined) return undefined
  const socket = req.socket
  const https = (socket as Partial<TLSSocket>).encrypted === true
  const protocol = req.httpVersion === '1.1' ? 'HTTP/1.1' : `HTTP/${req.httpVersion}`
  const env = newEnv(
    req.method ?? 'GET',
    scriptName,
    pathInfo,
    target,
    protocol,
    https,
    req,
    config,
    earlyHints,
  )
  defineSignal(env, signalSource)
  if (config.logger !== undefined) env['tsgix.logger'] = config.logger
  const remote = socket.remoteAddress
  if (remote !== undefined) {
    env.REMOTE_ADDR = plainAddress(remote)
    env.REMOTE_PORT = String(socket.remotePort)
  }
  addHeaders(env, req.rawHeaders)
  setServer(env, https, socket.localAddress, socket.localPort)
  return env
}

/**
 * Sets `SERVER_NAME` and `SERVER_PORT` from `HTTP_HOST` (the scheme's port when it names
 * none), else from the local end of the connection.
 */
export function setServer(
  env: Env,
  https: boolean,
  localAddress: string | undefined,
  localPort: number | undefined,
): void {
  const host = (env as Record<string, unknown>)[HTTP_HOST]
  if (typeof host === 'string' && host !== '') {
    const [name, port] = splitHost(host)
    env.SERVER_NAME = name
    env.SERVER_PORT = port || (https ? '443' : '80')
  } else {
    env.SERVER_NAME = localAddress === undefined ? 'localhost' : plainAddress(localAddress)
    env.SERVER_PORT = String(localPort ?? 0)
  }
}
