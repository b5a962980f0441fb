/**
 * ContentMD5 — adds `Content-MD5` (RFC 1864: the base64 of the body's MD5 digest) to
 * responses with an array body. Streams, file bodies and writers are never read to be
 * hashed; responses whose status has no body (1xx, 204, 304) and responses that already have
 * `Content-MD5` are left as they are. `Content-MD5` is obsolete in HTTP (RFC 7231 Appendix B
 * removed it); some clients and storage APIs still check it.
 *
 * Env keys: none read or added.
 *
 * @example
 * builder(enable('ContentMD5'), app)
 * @see https://www.rfc-editor.org/rfc/rfc1864 (RFC 1864)
 * @see Plack::Middleware::ContentMD5
 */
import { createHash } from 'node:crypto'
import { headerExists, headerSet } from '../src/headers.js'
import { checkOptions } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import { statusWithNoEntityBody } from '../src/status.js'
import type { Middleware } from '../src/types.js'

/** Options of {@link contentMd5}: none, as in Plack. */
export type ContentMd5Options = Record<string, never>

/** Adds Content-MD5 to responses with an array body. */
export function contentMd5(options?: ContentMd5Options): Middleware {
  checkOptions('ContentMD5', options, [])
  return (app) =>
    async function contentMd5(env) {
      return responseCb(await app(env), (parts) => {
        const [status, headers, body] = parts
        if (!Array.isArray(body) || statusWithNoEntityBody(status)) return
        if (headerExists(headers, 'Content-MD5')) return
        const hash = createHash('md5')
        for (const chunk of body) hash.update(chunk)
        headerSet(headers, 'Content-MD5', hash.digest('base64'))
      })
    }
}
