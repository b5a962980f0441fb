/**
 * Reading `tsgi.input`: pulling its chunks under a size limit with Content-Length checks
 * ({@link pumpInput}), and reading it whole once per request ({@link readRawBody}).
 *
 * A whole read is cached in `env['tsgix.request.raw_body']`; `tsgi.input` is then replaced by a
 * re-readable stream of the same bytes and `tsgix.input.buffered` is set, as Plack does, so any
 * later reader (another request object, a middleware, the app) sees the body again.
 *
 * Env keys read: `CONTENT_LENGTH`, `CONTENT_TYPE`, `HTTP_TRANSFER_ENCODING`, `tsgi.input`, `tsgix.input.buffered`.
 * Env keys written: `tsgix.request.raw_body`, `tsgi.input`, `tsgix.input.buffered`.
 */
import { HttpError } from '../http-error.js'
import type { Env, InputStream } from '../types.js'

declare module '../types.js' {
  interface Env {
    /** The whole request body, once a TsgiRequest has read it. */
    'tsgix.request.raw_body'?: Uint8Array
    /** True once a multipart body was streamed to uploads (its raw bytes are not kept). */
    'tsgix.request.body_streamed'?: boolean
  }
}

const encoder = new TextEncoder()

/** The declared body length, or undefined without Content-Length; HttpError 400 when it is malformed. */
export function declaredLength(env: Env): number | undefined {
  const raw = env.CONTENT_LENGTH
  if (raw === undefined || raw === '') return undefined
  if (!/^\d{1,15}$/.test(raw)) throw new HttpError(400, 'invalid Content-Length')
  return Number(raw)
}

/**
 * True when the request announces a body: Content-Length, Content-Type (as Plack checks; HTTP/2
 * bodies may come without a length) or Transfer-Encoding.
 */
export function announcesBody(env: Env): boolean {
  return (
    (env.CONTENT_LENGTH ?? '') !== '' ||
    (env.CONTENT_TYPE ?? '') !== '' ||
    typeof env.HTTP_TRANSFER_ENCODING === 'string'
  )
}

/**
 * Feeds every chunk of `tsgi.input` to `sink` (awaited, for backpressure) and returns the byte
 * count. HttpError 413 when more than `limit` bytes come (at once when Content-Length says so);
 * HttpError 400 when the body is shorter or longer than Content-Length or the input fails.
 *
 * On failure the input is left as it is rather than closed: closing a node request stream
 * would close the connection and leave no way to send the error response.
 */
export async function pumpInput(
  env: Env,
  limit: number,
  sink: (chunk: Uint8Array) => void | Promise<void>,
): Promise<number> {
  const expected = declaredLength(env)
  if (expected !== undefined && expected > limit) throw new HttpError(413, 'request body too large')
  if (expected === 0 || !announcesBody(env)) return 0
  const iterator = env['tsgi.input'][Symbol.asyncIterator]()
  let received = 0
  for (;;) {
    let step: IteratorResult<Uint8Array | string>
    try {
      step = await iterator.next()
    } catch (err) {
      throw new HttpError(400, 'request body could not be read', { cause: err })
    }
    if (step.done) break
    const chunk = typeof step.value === 'string' ? encoder.encode(step.value) : step.value
    received += chunk.byteLength
    if (expected !== undefined && received > expected) {
      throw new HttpError(400, 'request body longer than Content-Length')
    }
    if (received > limit) throw new HttpError(413, 'request body too large')
    await sink(chunk)
  }
  if (expected !== undefined && received < expected) {
    throw new HttpError(400, 'request body shorter than Content-Length')
  }
  return received
}

/** A re-readable input stream over buffered bytes: every iteration starts from the beginning. */
export function bufferedInput(bytes: Uint8Array): InputStream {
  return {
    async *[Symbol.asyncIterator]() {
      if (bytes.byteLength > 0) yield bytes
    },
  }
}

// Per env: the chain of body reads (so they never interleave) and the first failure (the
// input is then partly consumed, so every later read must fail the same way).
const queues = new WeakMap<Env, Promise<unknown>>()
const failures = new WeakMap<Env, unknown>()

/**
 * Runs `task` after every earlier body task on this env has settled, so two readers never pull
 * from `tsgi.input` at once. A task that fails consumes the input: later tasks get its error.
 */
export function exclusive<T>(env: Env, task: () => Promise<T>): Promise<T> {
  const run = async (): Promise<T> => {
    if (failures.has(env)) throw failures.get(env)
    try {
      return await task()
    } catch (err) {
      failures.set(env, err)
      throw err
    }
  }
  const next = (queues.get(env) ?? Promise.resolve()).then(run, run)
  queues.set(
    env,
    next.catch(() => {}),
  )
  return next
}

/** The whole body, for callers already inside {@link exclusive}. */
export async function readRawBodyLocked(env: Env, limit: number): Promise<Uint8Array> {
  const cached = env['tsgix.request.raw_body']
  if (cached !== undefined) return cached
  if (env['tsgix.request.body_streamed'] === true) {
    throw new Error('TsgiRequest: the multipart body was streamed to uploads; its raw bytes are not kept')
  }
  const parts: Uint8Array[] = []
  await pumpInput(env, limit, (chunk) => {
    parts.push(chunk)
  })
  const bytes: Uint8Array = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
  env['tsgix.request.raw_body'] = bytes
  if (env['tsgix.input.buffered'] !== true) {
    env['tsgi.input'] = bufferedInput(bytes)
    env['tsgix.input.buffered'] = true
  }
  return bytes
}

/**
 * The whole request body, read once per env and cached. Throws HttpError 413 past `limit`,
 * 400 on a truncated or malformed body, and an Error when a multipart body was already streamed.
 */
export function readRawBody(env: Env, limit: number): Promise<Uint8Array> {
  const cached = env['tsgix.request.raw_body']
  if (cached !== undefined) return Promise.resolve(cached)
  return exclusive(env, () => readRawBodyLocked(env, limit))
}
