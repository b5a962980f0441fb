/**
 * Head — drops the response body of HEAD requests. The app is called with the method as it
 * came (`HEAD`), so it can skip building a body it knows will be dropped; whatever it returns
 * loses its body here and keeps its headers, `Content-Length` included.
 * An array body becomes `[]`; an async-iterable body is closed unread (`return()`, so its
 * `finally` blocks run) and replaced by `[]`; a writer's chunks are swallowed.
 *
 * Env keys: reads `REQUEST_METHOD` and `tsgi.errors` (a body that fails to close is reported
 * there); adds none.
 *
 * @example
 * builder(enable('Head'), app)
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-9.3.2 (RFC 9110 §9.3.2)
 * @see Plack::Middleware::Head
 */
import { discardBody } from '../src/body.js'
import { checkOptions } from '../src/options.js'
import { type BodyFilter, lengthPreserving, responseCb } from '../src/response-cb.js'
import type { Middleware } from '../src/types.js'

/** Options of {@link head}: none, as in Plack. */
export type HeadOptions = Record<string, never>

// Keeps an app-set Content-Length: HEAD must carry the headers a GET would.
const swallow: BodyFilter = lengthPreserving(() => null)

/** Removes the body of responses to HEAD requests. */
export function head(options?: HeadOptions): Middleware {
  checkOptions('Head', options, [])
  return (app) =>
    async function head(env) {
      if (env.REQUEST_METHOD !== 'HEAD') return app(env)
      return responseCb(await app(env), (parts) => {
        if (parts.length < 3) return swallow
        const body = parts[2]
        parts[2] = []
        if (body === undefined) return undefined
        return discardBody(body, (err) => {
          env['tsgi.errors'].write(`Head: closing the response body failed: ${String(err)}\n`)
        })
      })
    }
}
