/**
 * builder — composes middleware layers and apps into one app, as Plack::Builder.
 *
 * Parts are `enable(...)` / `enableIf(...)` layers, `mount(location, app)` mappings,
 * `lifespan(...)` hooks and at most one trailing app. The first `enable` is the outermost
 * layer. With `mount` parts, the layers wrap a URLMap of the mounts; a trailing app and `mount`
 * parts together are an error (Plack warns and drops the mounts). Everything is built here,
 * once. The lifespan hooks of the parts (`lifespan()` parts, enabled middleware, mounted apps,
 * the trailing app), in part order, are attached to the app returned, so a builder mounted in
 * another carries its hooks up.
 *
 * @example
 * const app = builder(
 *   enable('Lint'),
 *   enableIf((env) => env.REMOTE_ADDR === '127.0.0.1', debugPanel),
 *   mount('/api', api),
 *   mount('/', home),
 * )
 * @see Plack::Builder
 */
import { URLMap } from '../src/app/url-map.js'
import { type LifespanHooks, lifespanOf, withLifespan } from '../src/lifespan.js'
import type { App } from '../src/types.js'
import { Lifespan } from './lifespan.js'
import type { BuilderPart } from './parts.js'
import { Enable, Mount } from './parts.js'

/** Builds an app from layers and either a trailing app or `mount` parts. */
export function builder(...parts: [...BuilderPart[], App] | BuilderPart[]): App {
  const layers: Enable[] = []
  const mounts: Mount[] = []
  const hooks: LifespanHooks[] = []
  let app: App | undefined
  parts.forEach((part: unknown, i) => {
    if (part instanceof Lifespan) hooks.push(part.hooks)
    else if (part instanceof Enable) {
      layers.push(part)
      hooks.push(...lifespanOf(part.middleware))
    } else if (part instanceof Mount) {
      mounts.push(part)
      hooks.push(...lifespanOf(part.app))
    } else if (typeof part === 'function') {
      if (i !== parts.length - 1) {
        throw new TypeError(
          `builder: only the last part may be an app, but part ${i + 1} of ${parts.length} is a function ` +
            '(add middleware with enable(...))',
        )
      }
      app = part as App
      hooks.push(...lifespanOf(app))
    } else {
      throw new TypeError(
        `builder: part ${i + 1} is not enable(...), enableIf(...), mount(...), lifespan(...) or an app`,
      )
    }
  })

  if (app && mounts.length) {
    throw new TypeError(
      `builder: mount(...) and a trailing app cannot be used together (mounted at ${mounts
        .map((m) => `'${m.location}'`)
        .join(', ')}); mount the app too, e.g. mount('/', app)`,
    )
  }
  if (!app) {
    if (!mounts.length) {
      throw new TypeError(
        'builder: no application to build: pass an app as the last part, or mount(...) some',
      )
    }
    const map = new URLMap()
    for (const m of mounts) map.map(m.location, m.app)
    app = map.toApp()
  }
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!
    const wrapped: unknown = layer.middleware(app)
    if (typeof wrapped !== 'function') {
      throw new TypeError(`builder: middleware ${layer.label} did not return an app (a function)`)
    }
    app = wrapped as App
  }
  return carryLifespan(app, hooks)
}

/**
 * `app` carrying `hooks` (each once), in part order. When `app` carries hooks of its own (the
 * trailing app, with no layer around it), a plain forwarder stands in for it, so the list is
 * exactly the parts' order; the caller's functions are never changed.
 */
function carryLifespan(app: App, hooks: readonly LifespanHooks[]): App {
  const list = [...new Set(hooks)]
  const own = lifespanOf(app)
  if (own.length === list.length && own.every((h, i) => h === list[i])) return app
  const inner = app
  const base: App =
    own.length === 0
      ? app
      : function builtApp(env) {
          return inner(env)
        }
  return withLifespan(base, ...list)
}
