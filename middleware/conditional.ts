/**
 * Conditional — runs the request through a middleware only when a condition on the env holds.
 * The wrapped app is built once, when this middleware is applied; per request, `condition(env)`
 * picks the wrapped app or the plain one. `enableIf` in the builder is made of this.
 *
 * Env keys: reads whatever `condition` reads; adds none.
 *
 * @example
 * builder(enableIf((env) => env.REMOTE_ADDR === '127.0.0.1', 'Lint'), app)
 * @example
 * conditional({ condition: (env) => Boolean(env.HTTP_X_DEBUG), builder: lint() })(app)
 * @see Plack::Middleware::Conditional
 */
import { checkOptions, optionFunction } from '../src/options.js'
import type { App, Env, Middleware } from '../src/types.js'

/** Options of {@link conditional}. */
export interface ConditionalOptions {
  /** Called with the env of each request; a truthy result routes it through `builder`'s app. */
  readonly condition: (env: Env) => unknown
  /** The middleware to apply when `condition` holds (Plack's `builder`: a function of the app). */
  readonly builder: Middleware
}

/** Wraps an app so that `options.builder` applies only to requests where `options.condition` holds. */
export function conditional(options: ConditionalOptions): Middleware {
  const opts = checkOptions('Conditional', options, ['condition', 'builder'])
  const condition = optionFunction<ConditionalOptions['condition']>('Conditional', opts, 'condition', {
    required: true,
  })
  const build = optionFunction<Middleware>('Conditional', opts, 'builder', { required: true })
  return (app) => {
    const wrapped: App = build(app)
    if (typeof wrapped !== 'function') {
      throw new TypeError('Conditional: option builder must return an app (a function)')
    }
    return function conditional(env) {
      return condition(env) ? wrapped(env) : app(env)
    }
  }
}
