/**
 * Test support for the response-editing middleware: a plain env, apps that answer in each of
 * the three response forms (array body, async-iterable body, writer), and a runner that
 * drives any app result to its final status, headers and body text.
 */
import { isAsyncIterable, toBytes } from '../../src/body.js'
import type { AppResult, Body, Chunk, Env, HeaderList, Responder, Triple, Writer } from '../../src/types.js'

/** The three forms a response can take. */
export type Form = 'array' | 'iterable' | 'writer'

export const FORMS: readonly Form[] = ['array', 'iterable', 'writer']

/** A minimal valid env for a GET of `/`, with `extra` keys on top. */
export function makeEnv(extra: Record<string, unknown> = {}): Env {
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    REQUEST_URI: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': 'http',
    'tsgi.input': (async function* () {})(),
    'tsgi.errors': { write: () => true },
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
    'tsgi.nonblocking': true,
    'tsgi.streaming': true,
    ...extra,
  }
}

/** What an iterable body went through: chunks pulled and whether its `finally` ran. */
export interface Probe {
  pulled: number
  closed: boolean
}

/** An async-iterable body over `chunks` that records what happened to it in `probe`. */
export function iterableBody(
  chunks: readonly Chunk[],
  probe: Probe = { pulled: 0, closed: false },
): AsyncIterable<Chunk> {
  return (async function* body() {
    try {
      for (const chunk of chunks) {
        probe.pulled++
        yield chunk
      }
    } finally {
      probe.closed = true
    }
  })()
}

/** A response of `status`, `headers` and `chunks` in the given form (headers copied per call). */
export function respondIn(
  form: Form,
  status: number,
  headers: HeaderList,
  chunks: readonly Chunk[],
  probe?: Probe,
): AppResult {
  if (form === 'array') return [status, [...headers], [...chunks]]
  if (form === 'iterable') return [status, [...headers], iterableBody(chunks, probe)]
  return async (respond) => {
    const writer = respond([status, [...headers]])
    for (const chunk of chunks) await writer.write(chunk)
    await writer.close()
  }
}

/** A finished response as the tests look at it. */
export interface Outcome {
  status: number
  headers: HeaderList
  body: string
  /** The body as returned (for a triple), before it was read. */
  raw?: Body
  /** True when the response came through a writer. */
  streamed: boolean
}

/** Drives an app result to the end: runs a delayed response, reads the body whole. */
export async function run(result: AppResult | PromiseLike<AppResult>): Promise<Outcome> {
  const res = await result
  if (typeof res !== 'function') return finish(res, false)
  return new Promise<Outcome>((resolve, reject) => {
    const respond = ((r: Triple | [number, HeaderList]): Writer | undefined => {
      if (r.length >= 3) {
        finish(r as Triple, false).then(resolve, reject)
        return undefined
      }
      const parts: Uint8Array[] = []
      return {
        write: async (chunk) => {
          parts.push(toBytes(chunk))
        },
        close: async () => {
          resolve({ status: r[0], headers: r[1], body: Buffer.concat(parts).toString(), streamed: true })
        },
      }
    }) as Responder
    Promise.resolve(res(respond)).catch(reject)
  })
}

async function finish([status, headers, body]: Triple, streamed: boolean): Promise<Outcome> {
  const parts: Uint8Array[] = []
  if (Array.isArray(body)) for (const chunk of body) parts.push(toBytes(chunk))
  else if (isAsyncIterable(body)) for await (const chunk of body) parts.push(toBytes(chunk))
  return { status, headers, body: Buffer.concat(parts).toString(), raw: body, streamed }
}
