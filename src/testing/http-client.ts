/**
 * A small HTTP/1.1 client over node:http(s) that takes a web `Request` and gives a web `Response`.
 * The global `fetch` cannot serve the harness: it refuses to send a `Host` header of our
 * choosing (needed to test host-based mounts against a server on 127.0.0.1), adds headers of
 * its own and decompresses bodies, so the app would see a different request in process than
 * behind a server. {@link remoteFetch} puts the harness's `fetch` signature on top. An
 * `https:` origin is reached over TLS and any certificate is accepted (test servers use
 * self-signed ones).
 */
import http from 'node:http'
import https from 'node:https'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { TestFetch } from './harness.js'
import { testRequest } from './test-request.js'

function noBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)
}

/**
 * Sends `request` to the server at `origin` (its own URL's host goes in `Host`); `agent` is an
 * `https.Agent` for an `https:` origin.
 */
export function httpFetch(
  request: globalThis.Request,
  origin: URL,
  agent: http.Agent,
): Promise<globalThis.Response> {
  const tls = origin.protocol === 'https:'
  const url = new URL(request.url)
  const headers: Record<string, string> = {}
  for (const [name, value] of request.headers) headers[name] = value
  headers.host ??= url.host
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request({
      ...(tls ? { rejectUnauthorized: false } : {}),
      host: origin.hostname.replace(/^\[|\]$/g, ''),
      port: origin.port,
      method: request.method,
      path: url.pathname + url.search,
      headers,
      agent,
      signal: request.signal,
    })
    req.on('error', reject)
    req.on('response', (res) => {
      const status = res.statusCode ?? 0
      const out = new globalThis.Headers()
      const raw = res.rawHeaders
      for (let i = 0; i + 1 < raw.length; i += 2) out.append(raw[i]!, raw[i + 1]!)
      let body: ReadableStream<Uint8Array> | null = null
      if (noBody(request.method, status)) res.resume()
      else body = Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>
      try {
        resolve(
          new globalThis.Response(body as BodyInit | null, {
            status,
            statusText: res.statusMessage ?? '',
            headers: out,
          }),
        )
      } catch (err) {
        res.destroy()
        reject(err)
      }
    })
    if (request.body === null) req.end()
    else
      pipeline(Readable.fromWeb(request.body as import('node:stream/web').ReadableStream), req).catch(
        (err: unknown) => req.destroy(err as Error),
      )
  })
}

/**
 * A keep-alive agent for the server at `base`: for an `https:` URL an `https.Agent` that offers
 * only `http/1.1` by ALPN (a server that also speaks h2 must fall back to HTTP/1.1).
 */
export function agentFor(base: string): http.Agent {
  return new URL(base).protocol === 'https:'
    ? new https.Agent({ keepAlive: true, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
    : new http.Agent({ keepAlive: true })
}

/** A `fetch` aimed at the server at `base`, through `agent` (see {@link agentFor}). */
export function remoteFetch(base: string, agent: http.Agent): TestFetch {
  const origin = new URL(base)
  return async (input, init) => httpFetch(await testRequest(input, init, base), origin, agent)
}
