/**
 * Chunked — asks the server to stream a response with chunked transfer coding: a response
 * to an HTTP/1.1 request that has a body status, no `Content-Length` and no
 * `Transfer-Encoding` gets `Transfer-Encoding: chunked`. In TSGI the server owns framing, so
 * that header is a request to the server, which frames the bytes itself; this middleware never
 * touches the body (Plack's pre-frames it).
 *
 * Env keys: reads `SERVER_PROTOCOL`; adds none.
 *
 * @example
 * builder(enable('Chunked'), app)
 * @see https://www.rfc-editor.org/rfc/rfc9112#section-7.1 (RFC 9112 §7.1)
 * @see Plack::Middleware::Chunked
 */
import { headerExists, headerSet } from '../src/headers.js'
import { checkOptions } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import { statusWithNoEntityBody } from '../src/status.js'
import type { Middleware } from '../src/types.js'

/** Options of {@link chunked}: none, as in Plack. */
export type ChunkedOptions = Record<string, never>

/** Marks HTTP/1.1 responses of unknown length as `Transfer-Encoding: chunked`. */
export function chunked(options?: ChunkedOptions): Middleware {
  checkOptions('Chunked', options, [])
  return (app) =>
    async function chunked(env) {
      const res = await app(env)
      if (env.SERVER_PROTOCOL !== 'HTTP/1.1') return res
      return responseCb(res, (parts) => {
        const [status, headers] = parts
        if (statusWithNoEntityBody(status)) return
        if (headerExists(headers, 'Content-Length') || headerExists(headers, 'Transfer-Encoding')) return
        headerSet(headers, 'Transfer-Encoding', 'chunked')
      })
    }
}
