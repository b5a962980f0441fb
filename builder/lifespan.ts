/**
 * lifespan — a builder part with work to do when the server starts and when it stops: open a
 * pool, connect a queue, warm a cache; then close them. The server runs every `startup` before
 * it accepts its first connection (a failure stops the start) and every `shutdown` after the
 * drain of its graceful close (spec 5.8).
 *
 * The builder gathers, in part order, the hooks of `lifespan()` parts, of enabled middleware
 * that carry hooks (the Session middleware with a Redis store, say), of mounted apps and of the
 * trailing app, and attaches them to the app it returns; startups run in that order (outermost
 * first), shutdowns in reverse.
 *
 * @example
 * const db = createPool(config)
 * export default builder(
 *   lifespan({ startup: () => db.connect(), shutdown: () => db.end() }),
 *   enable('AccessLog'),
 *   app,
 * )
 */
import { checkLifespanHooks, type LifespanHooks } from '../src/lifespan.js'

/** Startup and shutdown work, from `lifespan`. */
export class Lifespan {
  constructor(readonly hooks: LifespanHooks) {}
}

/** A builder part that runs `startup` when the server starts and `shutdown` when it stops. */
export function lifespan(hooks: LifespanHooks): Lifespan {
  return new Lifespan(checkLifespanHooks('lifespan', hooks))
}
