/**
 * JSONP — wraps JSON responses in a JavaScript callback call when the query names one:
 * `GET /data?callback=show` answers `/**\/show({...})` as `text/javascript`.
 *
 * Only responses with a JSON content type (`application/json`, `application/*+json`, or a
 * `javascript` type, as Plack) are wrapped; the callback name must match `/^[\w.$[\]]+$/`, or the
 * response is left untouched. The body is wrapped as it streams: nothing is buffered, so array
 * bodies, async-iterable bodies and writer responses all work. The leading empty comment keeps
 * the first bytes under the page's control (the "Rosetta Flash" defence), and
 * `X-Content-Type-Options: nosniff` stops browsers from treating the script as anything else.
 * Any site can read a JSONP response with the user's cookies: never enable it on data that
 * needs authentication.
 *
 * Env keys: reads `QUERY_STRING`.
 *
 * @example
 * builder(enable('JSONP', { callbackKey: 'jsonp' }), api)
 * @see RFC 9239 (text/javascript), Plack::Middleware::JSONP
 */
import { headerGet, headerSet } from '../src/headers.js'
import { checkOptions, optionString } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import type { Chunk, Middleware } from '../src/types.js'

/** Options of {@link jsonp}. */
export interface JsonpOptions {
  /** The query parameter that names the callback. @default 'callback' */
  readonly callbackKey?: string
}

const NAME = 'JSONP'
const CALLBACK = /^[\w.$[\]]+$/
const JSON_TYPE = /^\s*[\w.+-]+\/(?:[\w.-]+\+)?(?:json|javascript)\s*(?:;|$)/i

/** Wraps JSON responses in the callback named by the query. */
export function jsonp(options: JsonpOptions = {}): Middleware {
  const opts = checkOptions(NAME, options, ['callbackKey'])
  const callbackKey = optionString(NAME, opts, 'callbackKey') ?? 'callback'
  if (callbackKey === '') throw new TypeError(`${NAME}: option 'callbackKey' must not be empty`)

  return (app) =>
    function jsonp(env) {
      const res = app(env)
      const query = env.QUERY_STRING
      if (!query?.includes(callbackKey)) return res
      const name = new URLSearchParams(query).get(callbackKey)
      if (name === null || !CALLBACK.test(name)) return res
      return responseCb(res, (r) => {
        if (!JSON_TYPE.test(headerGet(r[1], 'Content-Type') ?? '')) return undefined
        headerSet(r[1], 'Content-Type', 'text/javascript; charset=utf-8')
        headerSet(r[1], 'X-Content-Type-Options', 'nosniff')
        let started = false
        return (chunk: Chunk | null): Chunk | null => {
          const head = started ? '' : `/**/${name}(`
          started = true
          if (chunk === null) return `${head})`
          if (head === '') return chunk
          return typeof chunk === 'string' ? head + chunk : Buffer.concat([Buffer.from(head), chunk])
        }
      })
    }
}
