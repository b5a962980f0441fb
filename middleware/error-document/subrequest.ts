/**
 * ErrorDocument's subrequest: a GET for another path on the same app, with the original
 * request's CGI and `HTTP_*` keys kept under `tsgix.errordocument.*` and no body (the request
 * object's caches, `tsgix.request.*`, are left out of its env), run to a finished
 * response whatever form the app answers in (a writer's chunks are collected: an error document
 * is small, and the caller needs it whole to decide).
 */
import { isPromiseLike } from '../../src/body.js'
import type { App, AppResult, Body, Chunk, Env, Head, Responder, Triple } from '../../src/types.js'

declare module '../../src/types.js' {
  interface Env {
    /** In an ErrorDocument subrequest: the original request's CGI and HTTP_* keys (`tsgix.errordocument.PATH_INFO` …). */
    [key: `tsgix.errordocument.${string}`]: unknown
  }
}

const empty: AsyncIterable<Uint8Array> = {
  [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
}

/** The env of a GET subrequest for `path`. */
export function subrequestEnv(env: Env, path: string): Env {
  const sub: Env = { ...env }
  for (const key of Object.keys(env)) {
    if (!key.startsWith('tsgi.') && !key.startsWith('tsgix.')) sub[`tsgix.errordocument.${key}`] = env[key]
  }
  const q = path.indexOf('?')
  sub.REQUEST_METHOD = 'GET'
  sub.PATH_INFO = q < 0 ? path : path.slice(0, q)
  sub.QUERY_STRING = q < 0 ? '' : path.slice(q + 1)
  sub.REQUEST_URI = env.SCRIPT_NAME + path
  delete sub.CONTENT_LENGTH
  delete sub.CONTENT_TYPE
  delete sub.HTTP_TRANSFER_ENCODING
  sub['tsgi.input'] = empty
  // A GET without a body: none of the original's parsed body, parameters, uploads or
  // buffered input may leak into it through the request object's caches.
  for (const key of Object.keys(sub)) {
    if (key.startsWith('tsgix.request.') || key === 'tsgix.input.buffered') delete sub[key]
  }
  return sub
}

/** Runs the subrequest; resolves to its finished response (undefined when it never answered). */
export async function runSubrequest(app: App, env: Env, path: string): Promise<Triple | undefined> {
  const res: AppResult = await app(subrequestEnv(env, path))
  if (typeof res !== 'function') return res
  return new Promise<Triple | undefined>((resolve, reject) => {
    const respond = ((r: Triple | Head) => {
      if (r.length >= 3) {
        resolve(r as Triple)
        return undefined
      }
      const chunks: Chunk[] = []
      return {
        write: async (chunk: Chunk) => {
          // The app may reuse its buffer once write resolves: keep a copy.
          chunks.push(typeof chunk === 'string' ? chunk : chunk.slice())
        },
        close: async () => resolve([r[0], r[1], chunks as Body]),
      }
    }) as Responder
    try {
      const ran = res(respond)
      if (isPromiseLike(ran)) Promise.resolve(ran).catch(reject)
    } catch (err) {
      reject(err)
    }
  })
}
