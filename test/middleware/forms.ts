/**
 * Test support for the middleware that touch a response: one response in each of the three
 * forms (array body, async-iterable body, writer), a probe on iterable bodies, the ways an
 * app can fail, and a call that expects a triple. Envs come from `requestEnv`, finished
 * responses from `runResponse`.
 */
import type { App, AppResult, Chunk, Env, HeaderList, Triple } from '../../src/types.js'

/** The three forms a response can take. */
export type Form = 'array' | 'iterable' | 'writer'

export const FORMS: readonly Form[] = ['array', 'iterable', 'writer']

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

const FORM_NAMES: Readonly<Record<Form, string>> = {
  array: 'array body',
  iterable: 'async-iterable body',
  writer: 'writer',
}

/** `[name, app]` pairs answering `status`, `headers` (a fresh copy each time) and `chunks` in each of the three forms. */
export function responseForms(
  status: number,
  headers: HeaderList,
  chunks: readonly Chunk[],
): [string, App][] {
  return FORMS.map((form) => [FORM_NAMES[form], () => respondIn(form, status, headers, chunks)])
}

/**
 * The ways an app can fail, as Plack's tests raise errors: a throw, a rejected promise, and
 * both again inside a delayed response. Each takes the error to raise (made per call).
 */
export const RAISERS: readonly [string, (err: () => unknown) => App][] = [
  [
    'thrown',
    (err) => () => {
      throw err()
    },
  ],
  [
    'rejected',
    (err) => async () => {
      throw err()
    },
  ],
  [
    'thrown in a delayed response',
    (err) => () => () => {
      throw err()
    },
  ],
  [
    'rejected in a delayed response',
    (err) => () => async () => {
      throw err()
    },
  ],
]

/** Calls `app` and returns its triple, body unread (awaiting a promise; a delayed response is an error). */
export async function callTriple(app: App, env: Env): Promise<Triple> {
  const res = await app(env)
  if (typeof res === 'function') throw new Error('unexpected delayed response')
  return res
}
