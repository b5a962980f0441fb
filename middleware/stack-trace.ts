/**
 * StackTrace — answers an application error with a 500 page showing its stack trace, for
 * development.
 *
 * Any error the app throws, rejects with, or raises inside a delayed response before the head
 * was sent becomes a 500: an HTML page (everything escaped) when the client prefers `text/html`,
 * plain text otherwise. Stack positions are the TypeScript sources' when source maps are on
 * (`tsx` registers them; the factory turns Node's support on when it can). The `cause` chain
 * follows the trace. The trace is also written to `tsgi.errors`.
 *
 * It refuses to be built when `NODE_ENV` is `production` (a trace leaks source paths and
 * internals) unless `allowInProduction` is set. `tsgiup -E development` enables it.
 *
 * Env keys: reads `HTTP_ACCEPT`, `tsgi.errors`, `tsgix.stacktrace.error`; adds
 * `tsgix.stacktrace.text` and `tsgix.stacktrace.html`.
 *
 * @example
 * builder(enable('StackTrace'), app)
 * @see RFC 9110 §15.6.1, Plack::Middleware::StackTrace
 */
import { discardBody } from '../src/body.js'
import { headerRemove } from '../src/headers.js'
import { checkOptions, optionBoolean } from '../src/options.js'
import { bestMediaType, negotiatorFor } from '../src/request/negotiate.js'
import { rescue } from '../src/rescue.js'
import { responseCb } from '../src/response-cb.js'
import type { Env, HeaderList, Middleware } from '../src/types.js'
import { traceHtml, traceText } from './stack-trace/render.js'

declare module '../src/types.js' {
  interface Env {
    /** An error a layer answered with a 5xx response itself; StackTrace with `force` shows its trace. */
    'tsgix.stacktrace.error'?: unknown
    /** The plain-text trace of the error StackTrace answered. */
    'tsgix.stacktrace.text'?: string
    /** The HTML page of the error StackTrace answered. */
    'tsgix.stacktrace.html'?: string
  }
}

/** Options of {@link stackTrace}. */
export interface StackTraceOptions {
  /**
   * Also replace 500 responses the app returned itself, when it recorded the error behind
   * them in `env['tsgix.stacktrace.error']` (HTTPExceptions does).
   * @default false
   */
  readonly force?: boolean
  /** Do not write the trace to `tsgi.errors`. @default false */
  readonly noPrintErrors?: boolean
  /** Allow building it when `NODE_ENV` is `production`. @default false */
  readonly allowInProduction?: boolean
}

const NAME = 'StackTrace'

/** Answers application errors with their stack trace. */
export function stackTrace(options: StackTraceOptions = {}): Middleware {
  const opts = checkOptions(NAME, options, ['force', 'noPrintErrors', 'allowInProduction'])
  const force = optionBoolean(NAME, opts, 'force') ?? false
  const noPrintErrors = optionBoolean(NAME, opts, 'noPrintErrors') ?? false
  const allowInProduction = optionBoolean(NAME, opts, 'allowInProduction') ?? false
  if (globalThis.process?.env.NODE_ENV === 'production' && !allowInProduction) {
    throw new TypeError(
      `${NAME}: refusing to run with NODE_ENV=production (stack traces leak internals); set option allowInProduction to true to force it`,
    )
  }
  globalThis.process?.setSourceMapsEnabled?.(true)

  const page = (err: unknown, env: Env): [number, HeaderList, [string]] => {
    const text = traceText(err)
    const html = traceHtml(err, env)
    env['tsgix.stacktrace.text'] = text
    env['tsgix.stacktrace.html'] = html
    if (!noPrintErrors) env['tsgi.errors'].write(text.endsWith('\n') ? text : `${text}\n`)
    const wantsHtml = bestMediaType(negotiatorFor(env), ['text/plain', 'text/html']) === 'text/html'
    const body = wantsHtml ? html : text
    return [
      500,
      [
        'Content-Type',
        `${wantsHtml ? 'text/html' : 'text/plain'}; charset=utf-8`,
        'Content-Length',
        String(Buffer.byteLength(body)),
      ],
      [body],
    ]
  }

  return (app) =>
    function stackTrace(env) {
      const res = rescue(app, env, (err) => page(err, env))
      if (!force) return res
      return responseCb(res, (r) => {
        if (r[0] !== 500 || env['tsgix.stacktrace.error'] === undefined) return
        const [, headers, body] = page(env['tsgix.stacktrace.error'], env)
        if (r.length >= 3) {
          discard(env, r[2])
          r[1] = headers
          r[2] = body
          return
        }
        // A writer: swallow what the app writes and send the trace at the end.
        r[1].length = 0
        r[1].push(...headers)
        headerRemove(r[1], 'Content-Length')
        let sent = false
        return (chunk) => {
          if (chunk !== null || sent) return undefined
          sent = true
          return body[0]
        }
      })
    }
}

/** Frees the body the trace replaces (a node Readable destroyed, a web stream cancelled). */
function discard(env: Env, body: unknown): void {
  void discardBody(body, (err) => {
    env['tsgi.errors'].write(`${NAME}: closing the replaced body failed: ${String(err)}\n`)
  })
}
