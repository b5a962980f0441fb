/**
 * The parts of a `builder(...)` call: `enable`, `enableIf` and `mount` (`lifespan` is in
 * `lifespan.ts`). Each resolves and validates what it is given at once (options included), so
 * configuration errors surface when the app is built, never per request.
 */
import { type ConditionalOptions, conditional } from '../middleware/conditional.js'
import { parseLocation } from '../src/app/url-map-location.js'
import { lifespanOf, withLifespan } from '../src/lifespan.js'
import type { App, Env, Middleware } from '../src/types.js'
import type { Lifespan } from './lifespan.js'
import { type BuiltinMiddleware, type BuiltinName, buildBuiltin } from './registry.js'

/** A middleware layer, from `enable` or `enableIf`. */
export class Enable {
  constructor(
    /** The layer. */
    readonly middleware: Middleware,
    /** What was enabled, for messages: a Plack name or a function's name. */
    readonly label: string,
  ) {}
}

/** A mapping of a location to an app, from `mount`. */
export class Mount {
  constructor(
    readonly location: string,
    readonly app: App,
  ) {}
}

/** Anything but the trailing app of a `builder(...)` call. */
export type BuilderPart = Enable | Mount | Lifespan

/** The options argument of a built-in: optional when its options type admits `undefined`. */
export type BuiltinOptionsArg<N extends BuiltinName> = undefined extends BuiltinMiddleware[N]
  ? [options?: BuiltinMiddleware[N]]
  : [options: BuiltinMiddleware[N]]

/** A user middleware factory: options in, middleware out. */
export type MiddlewareFactory<O> = (options: O) => Middleware

/**
 * Adds a middleware layer; the first `enable` of a builder is the outermost layer.
 *
 * - `enable('AccessLog', options?)`: a built-in by its Plack name; options are type-checked per name.
 * - `enable(factory, options)`: calls the user's factory with the options.
 * - `enable(factory)` where `factory` declares no parameters (`() => mw`, `(opts = {}) => mw`):
 *   calls it with no options.
 * - `enable(middleware)`: a middleware `(app) => app` as is.
 */
export function enable<N extends BuiltinName>(name: N, ...options: BuiltinOptionsArg<N>): Enable
export function enable<O>(factory: MiddlewareFactory<O>, options: O): Enable
export function enable(factory: () => Middleware): Enable
export function enable(middleware: Middleware): Enable
export function enable(what: unknown, ...rest: unknown[]): Enable {
  return resolve('enable', what, rest)
}

/** A condition of `enableIf`: called with each request's env. */
export type EnableCondition = ConditionalOptions['condition']

/**
 * Like {@link enable}, but the layer applies only to requests for which `condition(env)` is
 * truthy (Plack's `enable_if`, built on the Conditional middleware).
 */
export function enableIf<N extends BuiltinName>(
  condition: EnableCondition,
  name: N,
  ...options: BuiltinOptionsArg<N>
): Enable
export function enableIf<O>(condition: EnableCondition, factory: MiddlewareFactory<O>, options: O): Enable
export function enableIf(condition: EnableCondition, factory: () => Middleware): Enable
export function enableIf(condition: EnableCondition, middleware: Middleware): Enable
export function enableIf(condition: unknown, what: unknown, ...rest: unknown[]): Enable {
  if (typeof condition !== 'function') {
    throw new TypeError('enableIf: the condition must be a function of the env')
  }
  const inner = resolve('enableIf', what, rest)
  const cond = condition as (env: Env) => unknown
  // The condition picks requests, not the server's life: the layer's hooks always run.
  const layer = withLifespan(
    conditional({ condition: cond, builder: inner.middleware }),
    ...lifespanOf(inner.middleware),
  )
  return new Enable(layer, `${inner.label} (if)`)
}

/**
 * Maps a location to an app; a builder with `mount` parts builds a URLMap (see `src/app/url-map.ts`
 * for the location forms: `/path`, `/users/:id`, `http://host/path`, `//host/path`).
 */
export function mount(location: string, app: App): Mount {
  parseLocation('mount', location)
  if (typeof app !== 'function') {
    throw new TypeError(`mount: the app mounted at '${location}' must be a function`)
  }
  return new Mount(location, app)
}

function resolve(caller: string, what: unknown, rest: unknown[]): Enable {
  if (typeof what === 'string') return new Enable(buildBuiltin(what, rest[0]), what)
  if (typeof what !== 'function') {
    throw new TypeError(`${caller}: expected a middleware name, factory or middleware, got ${typeof what}`)
  }
  const label = what.name || 'anonymous middleware'
  // A function declaring no parameters cannot be a middleware (it would ignore its app): a factory.
  if (rest.length === 0 && what.length > 0) return new Enable(what as Middleware, label)
  const middleware: unknown = rest.length ? (what as MiddlewareFactory<unknown>)(rest[0]) : what()
  if (typeof middleware !== 'function') {
    throw new TypeError(`${caller}: the factory ${label} did not return a middleware (a function)`)
  }
  return new Enable(middleware as Middleware, label)
}
