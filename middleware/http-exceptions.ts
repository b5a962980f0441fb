/**
 * HTTPExceptions — turns errors that carry an HTTP status into responses.
 *
 * An error is caught when the app throws it, rejects with it, or raises it inside a delayed
 * response before the head was sent. An {@link HttpError}, or any object with an integer
 * `status` from 300 to 599, becomes a `text/plain` response with that status, the error's own
 * headers and its message when `expose` is true (the reason phrase otherwise). A 3xx error with
 * a `Location` header (or a string `location` property) is a redirect. Other errors are thrown
 * on, to StackTrace or the server, unless `rethrow` is false.
 *
 * Env keys: reads `tsgi.errors` (with `rethrow: false`); adds `tsgix.stacktrace.error` (the
 * error behind a 5xx answer, for StackTrace's `force`).
 *
 * @example
 * builder(enable('HTTPExceptions'), (env) => { throw new HttpError(403, 'Members only') })
 * @see RFC 9110 §15, Plack::Middleware::HTTPExceptions
 */

import { headerExists, headerSet } from '../src/headers.js'
import { errorStatus, HttpError } from '../src/http-error.js'
import { checkOptions, optionBoolean } from '../src/options.js'
import { rescue } from '../src/rescue.js'
import { statusText } from '../src/status.js'
import type { Env, HeaderList, Middleware, Triple } from '../src/types.js'

declare module '../src/types.js' {
  interface Env {
    /** An error a layer answered with a 5xx response itself; StackTrace with `force` shows its trace. */
    'tsgix.stacktrace.error'?: unknown
  }
}

/** Options of {@link httpExceptions}. */
export interface HttpExceptionsOptions {
  /**
   * Throw errors that carry no status on to the outer layers (StackTrace, the server). When
   * false, they are answered with a plain 500 and written to `tsgi.errors`.
   * @default true
   */
  readonly rethrow?: boolean
}

const NAME = 'HTTPExceptions'

/** Catches errors with an HTTP status and answers them with that status. */
export function httpExceptions(options: HttpExceptionsOptions = {}): Middleware {
  const opts = checkOptions(NAME, options, ['rethrow'])
  const rethrow = optionBoolean(NAME, opts, 'rethrow') ?? true

  const transform = (err: unknown, env: Env): Triple => {
    const status = errorStatus(err)
    if (status === undefined) {
      if (rethrow) throw err
      env['tsgi.errors'].write(`${describe(err)}\n`)
      env['tsgix.stacktrace.error'] = err
      return plain(500, statusText(500), [])
    }
    if (status >= 500) env['tsgix.stacktrace.error'] = err
    return plain(status, message(err, status), extraHeaders(err, status))
  }

  return (app) =>
    function httpExceptions(env) {
      return rescue(app, env, (err) => transform(err, env))
    }
}

function plain(status: number, text: string, extra: HeaderList): Triple {
  const headers = [...extra]
  headerSet(headers, 'Content-Type', 'text/plain; charset=utf-8')
  headerSet(headers, 'Content-Length', String(Buffer.byteLength(text)))
  return [status, headers, [text]]
}

function message(err: unknown, status: number): string {
  const e = err as { message?: unknown; expose?: unknown }
  const expose = typeof e.expose === 'boolean' ? e.expose : status < 500
  return expose && typeof e.message === 'string' && e.message !== '' ? e.message : statusText(status)
}

function extraHeaders(err: unknown, status: number): HeaderList {
  const raw = err instanceof HttpError ? err.headers : (err as { headers?: unknown }).headers
  const headers = Array.isArray(raw) && raw.every((h) => typeof h === 'string') ? [...raw] : []
  const location = (err as { location?: unknown }).location
  if (status < 400 && typeof location === 'string' && !headerExists(headers, 'Location')) {
    headers.push('Location', location)
  }
  return headers
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err)
}
