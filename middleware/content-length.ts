/**
 * ContentLength — adds `Content-Length` to responses whose length is known without reading
 * them: array bodies (their byte length) and file bodies made by `fileBody()` (the file's size
 * from `fs.stat`, or the length of their byte range). Nothing happens when the response already
 * has `Content-Length` or `Transfer-Encoding`, when its status has no body (1xx, 204, 304), or
 * when the body is a stream (an `fs.ReadStream` included) or a writer: those are never read to
 * be measured.
 *
 * Env keys: none read or added.
 *
 * @example
 * builder(enable('ContentLength'), app)
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-8.6 (RFC 9110 §8.6)
 * @see Plack::Middleware::ContentLength
 */
import { stat } from 'node:fs/promises'
import { arrayBodyLength, isFileBody } from '../src/body.js'
import { headerExists, headerPush } from '../src/headers.js'
import { checkOptions } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import { statusWithNoEntityBody } from '../src/status.js'
import type { FileBody, Middleware } from '../src/types.js'

/** Options of {@link contentLength}: none, as in Plack. */
export type ContentLengthOptions = Record<string, never>

/** Adds Content-Length where the body's length is known. */
export function contentLength(options?: ContentLengthOptions): Middleware {
  checkOptions('ContentLength', options, [])
  return (app) =>
    async function contentLength(env) {
      return responseCb(await app(env), (parts) => {
        const [status, headers, body] = parts
        if (body === undefined || statusWithNoEntityBody(status)) return
        if (headerExists(headers, 'Content-Length') || headerExists(headers, 'Transfer-Encoding')) return
        if (Array.isArray(body)) {
          headerPush(headers, 'Content-Length', String(arrayBodyLength(body)))
          return
        }
        if (!isFileBody(body)) return
        return fileLength(body).then((length) => {
          if (length !== undefined) headerPush(headers, 'Content-Length', String(length))
        })
      })
    }
}

/**
 * The number of bytes a file body will send: its size, or its range clipped to the size
 * (`end` is inclusive). `undefined` when the file cannot be stat'ed or is not a regular file:
 * then the length is left to the server.
 */
async function fileLength(body: FileBody): Promise<number | undefined> {
  let size: number
  try {
    const st = await stat(body.path)
    if (!st.isFile()) return undefined
    size = st.size
  } catch {
    return undefined
  }
  const start = body.start ?? 0
  const end = Math.min(body.end ?? size - 1, size - 1)
  return Math.max(0, end - start + 1)
}
