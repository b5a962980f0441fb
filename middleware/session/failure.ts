/**
 * What a request gets when the session store fails (down, unreachable, erroring): a
 * `503 Service Unavailable`, and a line on `tsgi.errors` naming the cause. Nothing is cached:
 * the next request tries the store again.
 */
import { type BodyFilter, lengthPreserving, type ResponseParts } from '../../src/response-cb.js'
import type { Env, Triple } from '../../src/types.js'

const BODY = 'Service Unavailable: the session store is not reachable'
const HEADERS = (): string[] => [
  'Content-Type',
  'text/plain; charset=utf-8',
  'Content-Length',
  String(BODY.length),
  'Retry-After',
  '1',
]

/** Writes the failure to `tsgi.errors`. */
export function logStoreFailure(env: Env, action: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err)
  env['tsgi.errors'].write(`Session: the session store failed to ${action} (${message}); answered 503\n`)
}

/** The 503 answer, before the app ran. */
export function unavailable(): Triple {
  return [503, HEADERS(), [BODY]]
}

/** Turns a response whose head is not out yet into the 503: the app's body is read and dropped. */
export function makeUnavailable(res: ResponseParts): BodyFilter {
  res[0] = 503
  res[1].length = 0
  res[1].push(...HEADERS())
  // Content-Length above is the length of what this filter sends.
  return lengthPreserving((chunk) => (chunk === null ? BODY : undefined))
}
