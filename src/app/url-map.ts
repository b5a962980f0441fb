/**
 * URLMap — dispatches to one of several apps by host and path prefix, as Plack::App::URLMap.
 *
 * Rules: mappings with a host are tried before host-less ones, then the longest path first
 * (ties keep the order of `map` calls); a path matches only at a segment boundary (`/foo`
 * matches `/foo` and `/foo/bar`, not `/foobar`); a trailing slash on a location is ignored.
 * The matched prefix moves from PATH_INFO to the end of SCRIPT_NAME for the sub app, in the
 * same env object, and both are restored once the sub app has given its response head, or has
 * failed before giving one. A location may be a path-to-regexp pattern (`/users/:id`); its
 * params are merged into `tsgix.route.params`. No match: 404 `Not Found`.
 *
 * Env keys: reads HTTP_HOST, SERVER_NAME, SERVER_PORT; moves SCRIPT_NAME and PATH_INFO; sets
 * `tsgix.route.params` for pattern locations.
 *
 * @example
 * const app = urlMap({ '/': home, '/api': api, 'http://static.example.com/': files })
 * @see Plack::App::URLMap
 */
import { isPromiseLike } from '../body.js'
import { responseCb } from '../response-cb.js'
import type { App, AppResult, Env } from '../types.js'
import { type Location, parseLocation } from './url-map-location.js'

interface Mapping {
  readonly location: Location
  readonly app: App
}

const NOT_FOUND: () => AppResult = () => [
  404,
  ['Content-Type', 'text/plain', 'Content-Length', '9'],
  ['Not Found'],
]

/** A set of location → app mappings; `toApp()` compiles it into one app. */
export class URLMap {
  readonly #mappings: Mapping[] = []

  /**
   * Maps `location` to `app`. The location is a path starting with `/` (possibly a
   * path-to-regexp pattern), or a URL `http://host/path`, `https://host/path`, `//host/path`.
   * Throws a TypeError for anything else.
   */
  map(location: string, app: App): this {
    const parsed = parseLocation('URLMap', location)
    if (typeof app !== 'function') {
      throw new TypeError(`URLMap: the app mapped at '${location}' must be a function`)
    }
    this.#mappings.push({ location: parsed, app })
    return this
  }

  /** Alias of {@link URLMap.map}. */
  mount(location: string, app: App): this {
    return this.map(location, app)
  }

  /** The number of mappings. */
  get size(): number {
    return this.#mappings.length
  }

  /** Compiles the mappings (sorted once, here) into an app. Later `map` calls do not affect it. */
  toApp(): App {
    const sorted = this.#mappings
      .map((m, index) => ({ m, index }))
      .sort(
        (a, b) =>
          (b.m.location.host?.length ?? 0) - (a.m.location.host?.length ?? 0) ||
          b.m.location.path.length - a.m.location.path.length ||
          a.index - b.index,
      )
      .map(({ m }) => m)
    return function urlMap(env) {
      return dispatch(sorted, env)
    }
  }
}

/** A URLMap from a record of location → app, compiled. */
export function urlMap(mappings: Readonly<Record<string, App>> = {}): App {
  const map = new URLMap()
  for (const [location, app] of Object.entries(mappings)) map.map(location, app)
  return map.toApp()
}

function dispatch(mappings: readonly Mapping[], env: Env): ReturnType<App> {
  const pathInfo = env.PATH_INFO ?? ''
  const scriptName = env.SCRIPT_NAME ?? ''
  const serverName = typeof env.SERVER_NAME === 'string' ? env.SERVER_NAME.toLowerCase() : undefined
  const rawHost = typeof env.HTTP_HOST === 'string' ? env.HTTP_HOST.toLowerCase() : undefined
  const port = env.SERVER_PORT
  const httpHost =
    rawHost && port && rawHost.endsWith(`:${port}`) ? rawHost.slice(0, -port.length - 1) : rawHost

  for (const { location, app } of mappings) {
    const { host } = location
    if (host !== undefined && host !== httpHost && host !== serverName && host !== rawHost) continue
    const m = location.match(pathInfo)
    if (!m) continue

    const hadParams = 'tsgix.route.params' in env
    const origParams = env['tsgix.route.params']
    let restored = false
    const restore = () => {
      if (restored) return
      restored = true
      env.PATH_INFO = pathInfo
      env.SCRIPT_NAME = scriptName
      if (!m.params) return
      if (hadParams && origParams !== undefined) env['tsgix.route.params'] = origParams
      else delete env['tsgix.route.params']
    }
    env.PATH_INFO = m.rest
    env.SCRIPT_NAME = scriptName + m.prefix
    if (m.params) env['tsgix.route.params'] = { ...origParams, ...m.params }
    return callAndRestore(app, env, restore)
  }
  return NOT_FOUND()
}

function callAndRestore(app: App, env: Env, restore: () => void): ReturnType<App> {
  let res: ReturnType<App>
  try {
    res = app(env)
  } catch (err) {
    restore()
    throw err
  }
  if (isPromiseLike<AppResult>(res)) {
    return Promise.resolve(res).then(
      (r) => restoring(r, restore),
      (err: unknown) => {
        restore()
        throw err
      },
    )
  }
  return restoring(res, restore)
}

/** Restores when the head is given (`responseCb`), or when a delayed response fails before that. */
function restoring(res: AppResult, restore: () => void): AppResult {
  // `restore` returns no filter and no promise, so responseCb answers in the form it was given.
  const out = responseCb(res, restore) as AppResult
  if (typeof out !== 'function') return out
  return (respond) => {
    try {
      return Promise.resolve(out(respond)).catch((err: unknown) => {
        restore()
        throw err
      })
    } catch (err) {
      restore()
      throw err
    }
  }
}
