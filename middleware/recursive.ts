/**
 * Recursive — lets an app include the response for another path, or forward the whole request
 * to another path, on the same app.
 *
 * Include: `env['tsgix.recursive.include'](path)` runs the app for `path` (with an optional
 * `?query`) and returns its response, to use as is or to take apart. Forward: throw
 * `new ForwardRequest(path)` anywhere before the response head is sent (in the app, a promise
 * or a delayed response): the request is run again for `path`. Either way the new request is a
 * GET without a body, on a copy of the env; the paths it came through are listed in
 * `tsgix.recursive.old_path_info`. Other errors pass through, so put this inside HTTPExceptions
 * and StackTrace.
 *
 * Env keys: adds `tsgix.recursive.include` and (in included and forwarded requests)
 * `tsgix.recursive.old_path_info`; sets `PATH_INFO`, `QUERY_STRING`, `REQUEST_URI`,
 * `REQUEST_METHOD`, `tsgi.input` and removes `CONTENT_LENGTH`, `CONTENT_TYPE` in the copy.
 *
 * @example
 * builder(enable('Recursive'), (env) => { if (env.PATH_INFO === '/old') throw new ForwardRequest('/new'); ... })
 * @see Plack::Middleware::Recursive
 */
import { checkOptions, optionNumber } from '../src/options.js'
import { rescue } from '../src/rescue.js'
import type { AppResult, Env, Middleware } from '../src/types.js'

/** Runs the app for another path and returns its response. */
export type RecursiveInclude = (path: string) => AppResult | Promise<AppResult>

declare module '../src/types.js' {
  interface Env {
    /** Runs the app for another path (and optional `?query`) and returns its response. */
    'tsgix.recursive.include'?: RecursiveInclude
    /** The PATH_INFO of each request this one was included or forwarded from, outermost first. */
    'tsgix.recursive.old_path_info'?: string[]
  }
}

/** Thrown by an app to run the request again for another path (Plack::Recursive::ForwardRequest). */
export class ForwardRequest extends Error {
  /** The path to forward to, with an optional `?query`. */
  readonly path: string

  constructor(path: string) {
    super(`Forwarding to ${path}: wrap the application with the Recursive middleware`)
    this.name = 'ForwardRequest'
    this.path = path
  }
}

/** Options of {@link recursive}. */
export interface RecursiveOptions {
  /** How many includes and forwards one request may go through, to stop loops. @default 32 */
  readonly maxDepth?: number
}

const NAME = 'Recursive'

const empty: AsyncIterable<Uint8Array> = {
  [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
}

/** Adds includes and forwards to an app. */
export function recursive(options: RecursiveOptions = {}): Middleware {
  const opts = checkOptions(NAME, options, ['maxDepth'])
  const maxDepth = optionNumber(NAME, opts, 'maxDepth', { integer: true, min: 1 }) ?? 32

  return (app) => {
    const redo = (env: Env, target: string): AppResult | Promise<AppResult> => {
      const old = env['tsgix.recursive.old_path_info'] ?? []
      if (old.length >= maxDepth) {
        throw new Error(
          `${NAME}: more than ${maxDepth} includes or forwards (${[...old, env.PATH_INFO].join(' → ')} → ${target})`,
        )
      }
      const q = target.indexOf('?')
      const sub: Env = {
        ...env,
        REQUEST_METHOD: 'GET',
        PATH_INFO: q < 0 ? target : target.slice(0, q),
        QUERY_STRING: q < 0 ? '' : target.slice(q + 1),
        REQUEST_URI: env.SCRIPT_NAME + target,
        'tsgi.input': empty,
        'tsgix.recursive.old_path_info': [...old, env.PATH_INFO],
      }
      delete sub.CONTENT_LENGTH
      delete sub.CONTENT_TYPE
      return handle(sub)
    }
    function handle(env: Env): AppResult | Promise<AppResult> {
      env['tsgix.recursive.include'] = (path) => redo(env, path)
      return rescue(app, env, (err) => {
        if (err instanceof ForwardRequest) return redo(env, err.path)
        throw err
      })
    }
    return function recursive(env) {
      return handle(env)
    }
  }
}
