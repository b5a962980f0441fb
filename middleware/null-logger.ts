/**
 * NullLogger — sets `tsgix.logger` to a logger that drops every message, so an app that logs
 * through it runs quietly (in tests, say).
 *
 * Env keys: sets `tsgix.logger`.
 *
 * @example
 * builder(enable('NullLogger'), app)
 * @see Plack::Middleware::NullLogger, PSGI::Extensions (psgix.logger)
 */
import { checkOptions } from '../src/options.js'
import type { Logger, Middleware } from '../src/types.js'

/** Options of {@link nullLogger}: none. */
export type NullLoggerOptions = Record<string, never>

const discard: Logger = () => {}

/** Sets `tsgix.logger` to a no-op. */
export function nullLogger(options: NullLoggerOptions = {}): Middleware {
  checkOptions('NullLogger', options, [])
  return (app) =>
    function nullLogger(env) {
      env['tsgix.logger'] = discard
      return app(env)
    }
}
