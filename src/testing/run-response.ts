/**
 * runResponse — drives what an app returned to its end, as a server would, and gives back the
 * status, headers and body text: for a test that calls an app or a middleware directly
 * (with {@link requestEnv}) instead of through a server. It takes every response form: a
 * triple, a promise of one, a delayed response answering with a triple or through a writer.
 */
import { isAsyncIterable, toBytes } from '../body.js'
import type { AppResult, Body, Head, HeaderList, Responder, Triple, Writer } from '../types.js'

/** A response run to its end. */
export interface ResponseOutcome {
  readonly status: number
  readonly headers: HeaderList
  /** The body as UTF-8 text. */
  readonly body: string
  /** The body's bytes. */
  readonly bytes: Uint8Array
  /** The body as the app gave it in its triple, before it was read (absent for a writer). */
  readonly raw?: Body
  /** True when the body came through a writer. */
  readonly streamed: boolean
}

function outcome(
  status: number,
  headers: HeaderList,
  parts: Uint8Array[],
  streamed: boolean,
): ResponseOutcome {
  const bytes = Buffer.concat(parts)
  return { status, headers, body: bytes.toString(), bytes, streamed }
}

async function finish([status, headers, body]: Triple): Promise<ResponseOutcome> {
  const parts: Uint8Array[] = []
  if (Array.isArray(body)) for (const chunk of body) parts.push(toBytes(chunk))
  else if (isAsyncIterable(body)) for await (const chunk of body) parts.push(toBytes(chunk))
  return { ...outcome(status, headers, parts, false), raw: body }
}

/**
 * Runs `result` to the end: awaits a promise, calls a delayed response with a responder,
 * reads the body whole (a writer's once it is closed). Rejects when the app, the delayed
 * response or the body fails.
 */
export async function runResponse(result: AppResult | PromiseLike<AppResult>): Promise<ResponseOutcome> {
  const res = await result
  if (typeof res !== 'function') return finish(res)
  return new Promise<ResponseOutcome>((resolve, reject) => {
    const respond = ((r: Triple | Head): Writer | undefined => {
      if (r.length >= 3) {
        finish(r as Triple).then(resolve, reject)
        return undefined
      }
      const parts: Uint8Array[] = []
      return {
        write: async (chunk) => {
          parts.push(toBytes(chunk))
        },
        close: async () => {
          resolve(outcome(r[0], r[1], parts, true))
        },
      }
    }) as Responder
    Promise.resolve(res(respond)).catch(reject)
  })
}
