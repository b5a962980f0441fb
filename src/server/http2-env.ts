/**
 * Builds the TSGI env of an HTTP/2 stream, as the node server does for HTTP/1.1: a plain object
 * in one pass over the stream's raw header list. The pseudo-headers give the request line
 * (`:method`, `:path`), `tsgi.url_scheme` (`:scheme`) and `HTTP_HOST` (`:authority`, which wins
 * over a `Host` field, RFC 9113 §8.3.1); none of them becomes an `HTTP_*` key. Several `cookie`
 * fields (HTTP/2 sends one per cookie) are joined with '; '.
 */
import type { ServerHttp2Stream } from 'node:http2'
import type { EarlyHints, Env } from '../types.js'
import { addHeaders, type EnvConfig, newEnv, queryOf, setServer, targetPath } from './node-env.js'
import { decodePath } from './path.js'
import { defineSignal } from './pipeline.js'

/** The peer of a session, read once per connection. */
export interface Peer {
  readonly address: string | undefined
  readonly port: string | undefined
  readonly localAddress: string | undefined
  readonly localPort: number | undefined
  readonly encrypted: boolean
}

/**
 * The env of a stream, or undefined when its path does not percent-decode (answer 400).
 * `raw` is the flat header list node gives with the 'stream' event.
 */
export function buildHttp2Env(
  stream: ServerHttp2Stream,
  raw: readonly string[],
  peer: Peer,
  config: EnvConfig,
  signalSource: { readonly signal: AbortSignal },
  earlyHints: EarlyHints,
): Env | undefined {
  let method = 'GET'
  let path = ''
  let scheme = peer.encrypted ? 'https' : 'http'
  let authority: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.charCodeAt(0) !== 58 /* : */) break // pseudo-headers come first (RFC 9113 §8.3)
    if (name === ':method') method = raw[i + 1]!
    else if (name === ':path') path = raw[i + 1]!
    else if (name === ':scheme') scheme = raw[i + 1]!
    else if (name === ':authority') authority = raw[i + 1]!
  }
  const pathInfo = decodePath(targetPath(path))
  if (pathInfo === undefined) return undefined
  const https = scheme === 'https'
  const target = { requestUri: path, query: queryOf(path) }
  const env = newEnv(method, '', pathInfo, target, 'HTTP/2', https, stream, config, earlyHints)
  defineSignal(env, signalSource)
  if (config.logger !== undefined) env['tsgix.logger'] = config.logger
  if (peer.address !== undefined) {
    env.REMOTE_ADDR = peer.address
    if (peer.port !== undefined) env.REMOTE_PORT = peer.port
  }
  addHeaders(env, raw)
  if (authority !== undefined && authority !== '') env.HTTP_HOST = authority
  setServer(env, https, peer.localAddress, peer.localPort)
  return env
}
