/**
 * Runtime — adds an `X-Runtime` header: the seconds (6 decimals) from the request's arrival to
 * the moment its response head is known. For a streamed response that is when the head is
 * given, not when the body ends (headers cannot wait for the body).
 *
 * Env keys: none read, none added.
 *
 * @example
 * builder(enable('Runtime', { headerName: 'X-Response-Time' }), app)
 * @see Plack::Middleware::Runtime
 */
import { headerSet, isHeaderName } from '../src/headers.js'
import { checkOptions, optionFunction, optionString } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import type { Middleware } from '../src/types.js'

/** Options of {@link runtime}. */
export interface RuntimeOptions {
  /** The header to set. @default 'X-Runtime' */
  readonly headerName?: string
  /** A monotonic clock in milliseconds. @default performance.now */
  readonly now?: () => number
}

/** Sets the response-time header on every response. */
export function runtime(options: RuntimeOptions = {}): Middleware {
  const opts = checkOptions('Runtime', options, ['headerName', 'now'])
  const header = optionString('Runtime', opts, 'headerName') ?? 'X-Runtime'
  if (!isHeaderName(header))
    throw new TypeError(`Runtime: option 'headerName' must be a header name, got '${header}'`)
  const now = optionFunction<() => number>('Runtime', opts, 'now') ?? (() => performance.now())
  return (app) =>
    function runtime(env) {
      const start = now()
      return responseCb(app(env), (res) => {
        headerSet(res[1], header, ((now() - start) / 1000).toFixed(6))
      })
    }
}
