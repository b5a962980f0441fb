/**
 * AccessLog — writes one Apache-style line per request (`combined` by default) as soon as the
 * response's status and headers are known. The byte count comes from an array body or the
 * `Content-Length` header ('-' otherwise); `%D` and `%T` are '-' here: use AccessLog::Timed to
 * log after the body is sent, with real byte counts and durations.
 *
 * Env keys: reads the CGI keys and `HTTP_*` keys the format names, and `tsgi.errors` (the
 * default logger); adds none.
 *
 * @example
 * builder(enable('AccessLog', { format: 'common' }), app)
 * @example
 * accessLog({ format: '%h "%r" %>s %b', logger: (line) => stream.write(line) })(app)
 * @see https://httpd.apache.org/docs/current/mod/mod_log_config.html, Plack::Middleware::AccessLog
 */
import { arrayBodyLength } from '../src/body.js'
import { responseCb } from '../src/response-cb.js'
import type { Middleware } from '../src/types.js'
import { type AccessLogOptions, accessLogSettings, declaredLength } from './access-log/options.js'

export type {
  BlockHandler,
  CharHandler,
  LogFormatHandlers,
  LogFormatter,
  LogRecord,
  LogResponse,
} from './access-log/format.js'
export { compileLogFormat, LOG_FORMATS } from './access-log/format.js'
export type { AccessLogOptions } from './access-log/options.js'

/** Logs each request when its response head is known. */
export function accessLog(options: AccessLogOptions = {}): Middleware {
  const { formatter, write, now } = accessLogSettings('AccessLog', options)
  return (app) =>
    function accessLog(env) {
      const start = now()
      return responseCb(app(env), ([status, headers, body]) => {
        const length = Array.isArray(body) ? arrayBodyLength(body) : declaredLength(headers)
        const line = formatter({ env, status, headers, length, duration: undefined, start, end: now() })
        write(env, `${line}\n`)
      })
    }
}
