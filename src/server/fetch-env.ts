/**
 * Builds a TSGI `env` from a fetch-API `Request`: the CGI keys, the `tsgi.*` keys and the
 * `tsgix.*` extensions the fetch adapter supports. Used by {@link toFetchHandler}.
 */
import type { Env, ErrorStream, InputStream } from '../types.js'
import { decodePath } from './path.js'
import { defineSignal } from './pipeline.js'

/** What the runtime knows about the connection besides the Request itself. */
export interface FetchInfo {
  /** The client's address (REMOTE_ADDR). */
  readonly remoteAddress?: string
  /** The client's port (REMOTE_PORT). */
  readonly remotePort?: number
  /** Aborts when the client goes away; `tsgix.signal` follows it until the response completes. */
  readonly signal?: AbortSignal
  /** Keeps the runtime alive for work after the response (Workers' `ctx.waitUntil`). */
  readonly waitUntil?: (promise: Promise<unknown>) => void
}

/** The request body as `tsgi.input`; reads nothing until iterated. */
export function inputStream(body: ReadableStream<Uint8Array> | null): InputStream {
  if (body === null) return emptyInput
  return {
    async *[Symbol.asyncIterator]() {
      const reader = body.getReader()
      let done = false
      try {
        for (;;) {
          const r = await reader.read()
          if (r.done) {
            done = true
            return
          }
          yield r.value
        }
      } finally {
        if (!done) await reader.cancel().catch(() => {})
        reader.releaseLock()
      }
    },
  }
}

const emptyInput: InputStream = {
  async *[Symbol.asyncIterator]() {},
}

function hostParts(host: string, scheme: 'http' | 'https'): { name: string; port: string } | undefined {
  try {
    const url = new URL(`${scheme}://${host}`)
    return { name: url.hostname, port: url.port || (scheme === 'https' ? '443' : '80') }
  } catch {
    return undefined
  }
}

/** The env for `request`; `tsgix.signal` is read from `signalSource` when first used. Undefined when the path does not decode (400). */
export function fetchEnv(
  request: globalThis.Request,
  info: FetchInfo,
  errors: ErrorStream,
  signalSource: { readonly signal: AbortSignal },
): Env | undefined {
  const url = new URL(request.url)
  const pathInfo = decodePath(url.pathname)
  if (pathInfo === undefined) return undefined
  const scheme = url.protocol === 'https:' ? 'https' : 'http'
  const host = request.headers.get('host')
  const server = (host === null ? undefined : hostParts(host, scheme)) ?? {
    name: url.hostname,
    port: url.port || (scheme === 'https' ? '443' : '80'),
  }
  const env: Env = {
    REQUEST_METHOD: request.method,
    SCRIPT_NAME: '',
    PATH_INFO: pathInfo,
    REQUEST_URI: url.pathname + url.search,
    QUERY_STRING: url.search.slice(1),
    SERVER_NAME: server.name,
    SERVER_PORT: server.port,
    SERVER_PROTOCOL: 'HTTP/1.1',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': scheme,
    'tsgi.input': inputStream(request.body),
    'tsgi.errors': errors,
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
    'tsgi.nonblocking': true,
    'tsgi.streaming': true,
    'tsgix.cleanup': true,
    'tsgix.cleanup.handlers': [],
    'tsgix.input.buffered': false,
  }
  defineSignal(env, signalSource)
  if (info.remoteAddress !== undefined) env.REMOTE_ADDR = info.remoteAddress
  if (info.remotePort !== undefined) env.REMOTE_PORT = String(info.remotePort)
  if (host === null) env.HTTP_HOST = url.host
  for (const [name, value] of request.headers) {
    if (name === 'content-length') env.CONTENT_LENGTH = value
    else if (name === 'content-type') env.CONTENT_TYPE = value
    else env[`HTTP_${name.toUpperCase().replaceAll('-', '_')}`] = value
  }
  return env
}
