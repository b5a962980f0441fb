/**
 * Lifespan hooks: work an app or a middleware needs done when its server starts (open a pool,
 * connect a store, warm a cache) and when it stops (close them). {@link withLifespan} gives a
 * function that carries hooks and {@link lifespanOf} reads them; nothing of this runs per
 * request. The builder gathers the hooks of its parts onto the app it returns (`lifespan()`
 * parts, enabled middleware, mounted apps, the trailing app), and servers run them: startup
 * before the first connection, shutdown after the drain (spec 5.8; the runner is
 * `startLifespan` in `tsgi/server/lifespan`).
 *
 * Hooks are kept on the carrying function, a function made here, under a registered symbol
 * (`Symbol.for('tsgi.lifespan')`): the caller's function is never changed, hooks are never
 * guessed from a function's shape, and two copies of this module agree (an app file that tsx
 * compiles as CommonJS loads its own copy beside tsgiup's, as may two installed versions).
 *
 * @example
 * // an app that owns a pool
 * export default withLifespan(app, { startup: () => pool.connect(), shutdown: () => pool.end() })
 * @example
 * // a middleware that takes part: the builder runs its hooks with the server's
 * export function cache(options: CacheOptions): Middleware {
 *   const client = makeClient(options)
 *   const middleware: Middleware = (app) => async function cache(env) { ... }
 *   return withLifespan(middleware, { startup: () => client.connect(), shutdown: () => client.quit() })
 * }
 */
import { checkOptions, optionFunction } from './options.js'
import type { App, Middleware } from './types.js'

/** A startup or shutdown hook. */
export type LifespanHook = () => void | Promise<void>

/** The work of one component when its server starts and stops; either hook may be left out. */
export interface LifespanHooks {
  /** Runs before the server accepts its first connection; a throw or rejection stops the start. */
  readonly startup?: LifespanHook | undefined
  /** Runs when the server stops, once its requests and connections are over. */
  readonly shutdown?: LifespanHook | undefined
}

/** The brand of a function that carries hooks; its value is the frozen list. */
const LIFESPAN = Symbol.for('tsgi.lifespan')
const NONE: readonly LifespanHooks[] = Object.freeze([])

/**
 * Checks that `hooks` is an object with only `startup` and `shutdown`, each a function when
 * present; a TypeError naming `component` and the option otherwise. Returns `hooks` itself.
 */
export function checkLifespanHooks(component: string, hooks: unknown): LifespanHooks {
  if (hooks === undefined) {
    throw new TypeError(`${component}: expected the hooks, an object with 'startup' and/or 'shutdown'`)
  }
  const opts = checkOptions(component, hooks, ['startup', 'shutdown'])
  optionFunction(component, opts, 'startup')
  optionFunction(component, opts, 'shutdown')
  return hooks as LifespanHooks
}

/**
 * A function that calls `target` (an app or a middleware) with its one argument and carries
 * the hooks `target` carries followed by `hooks`; a hooks object is carried once, so one
 * reached twice (an app mounted at two places) runs once. `target` itself is returned when
 * `hooks` adds nothing; it is never changed.
 */
export function withLifespan(target: App, ...hooks: LifespanHooks[]): App
export function withLifespan(target: Middleware, ...hooks: LifespanHooks[]): Middleware
export function withLifespan(target: (arg: never) => unknown, ...hooks: LifespanHooks[]): unknown {
  if (typeof target !== 'function') {
    throw new TypeError('withLifespan: the target must be a function (an app or a middleware)')
  }
  const own = lifespanOf(target)
  const list = [...own]
  for (const entry of hooks) {
    if (list.includes(entry)) continue
    list.push(checkLifespanHooks('withLifespan', entry))
  }
  if (list.length === own.length) return target
  const carrier = function lifespanCarrier(arg: never): unknown {
    return target(arg)
  }
  Object.defineProperty(carrier, 'name', { value: target.name })
  Object.defineProperty(carrier, LIFESPAN, { value: Object.freeze(list) })
  return carrier
}

/** The hooks `target` carries, in startup order; empty for anything without. */
export function lifespanOf(target: unknown): readonly LifespanHooks[] {
  if (typeof target !== 'function') return NONE
  const list: unknown = (target as { [LIFESPAN]?: unknown })[LIFESPAN]
  return Array.isArray(list) ? (list as readonly LifespanHooks[]) : NONE
}
