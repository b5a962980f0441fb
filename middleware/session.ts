/**
 * Session — server-side sessions (Plack::Middleware::Session): `env['tsgix.session']` is a
 * plain object the app reads and writes; a state (a cookie by default) carries the session id
 * and a store (memory by default; file or Redis to share sessions between processes) keeps the
 * data.
 *
 * When the store is used (the exact rule): the store is read before the app runs only when the
 * request carries a well-formed session id. It is written, and the id sent back, only when the
 * app changed the data (its JSON at the end differs from the JSON as loaded; a new session
 * counts as `{}`), asked for `changeId`, or the record is older than `touchAfter` (a TTL
 * refresh). A new session that is still empty is never stored and gets no cookie. `expire`
 * deletes the record and expires the cookie. A failing store answers 503.
 *
 * A store with `startup`/`shutdown` methods (the Redis store) takes part in the server's
 * lifespan: the middleware carries them as its lifespan hooks, so under the builder the store
 * connects before the server's first connection and closes after its drain (spec 5.8).
 *
 * Env keys read: `HTTP_COOKIE` (or the header state's header), `tsgi.url_scheme`. Added:
 * `tsgix.session`, `tsgix.session.options`.
 *
 * @example
 * builder(enable('Session', { store: redisStore({ url: 'redis://127.0.0.1:6379' }) }), app)
 * // in the app: const s = env['tsgix.session']!; s.count = (Number(s.count) || 0) + 1
 * @see https://www.rfc-editor.org/rfc/rfc6265 (RFC 6265, HTTP cookies)
 * @see Plack::Middleware::Session
 */
import { withLifespan } from '../src/lifespan.js'
import { checkOptions, optionFunction, optionNumber } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import type { Env, HeaderList, Middleware } from '../src/types.js'
import { SessionContext } from './session/context.js'
import { logStoreFailure, makeUnavailable, unavailable } from './session/failure.js'
import { isValidId } from './session/id.js'
import { decodeRecord, encodeRecord } from './session/record.js'
import {
  COOKIE_KEYS,
  type CookieStateOptions,
  cookieStateOf,
  readCookieSettings,
} from './session/state-cookie.js'
import { memoryStore } from './session/store-memory.js'
import type { SessionData, SessionEnvOptions, SessionState, SessionStore } from './session/types.js'

export { generateId, ID_PATTERN, isValidId } from './session/id.js'
export { type CookieStateOptions, cookieState } from './session/state-cookie.js'
export { type HeaderStateOptions, headerState } from './session/state-header.js'
export { type FileStore, type FileStoreOptions, fileStore } from './session/store-file.js'
export { type MemoryStoreOptions, memoryStore } from './session/store-memory.js'
export {
  type RedisClient,
  type RedisStore,
  type RedisStoreOptions,
  redisStore,
} from './session/store-redis.js'
export type {
  SessionCookieOverrides,
  SessionData,
  SessionEnvOptions,
  SessionState,
  SessionStore,
} from './session/types.js'

declare module '../src/types.js' {
  interface Env {
    /** The session data (Session, Session::Cookie). */
    'tsgix.session'?: SessionData
    /** The session's id and per-request switches (Session, Session::Cookie). */
    'tsgix.session.options'?: SessionEnvOptions
  }
}

/** Options of {@link session}: a store, a state or the cookie settings, and the TTL. */
export interface SessionOptions extends CookieStateOptions {
  /** Where the data lives. @default memoryStore() */
  readonly store?: SessionStore
  /** Where the id travels; give it or the cookie settings, not both. @default a cookie state from the cookie settings */
  readonly state?: SessionState
  /** Seconds a stored session lives after its last write. @default maxAge, else 86400 */
  readonly ttl?: number
  /** Seconds after which an unchanged session is written again to refresh its TTL (and cookie). @default half of ttl */
  readonly touchAfter?: number
  /** The clock, in milliseconds (for tests). @default Date.now */
  readonly now?: () => number
}

const NAME = 'Session'

/** Keeps session data in a store, keyed by an id the client carries. */
export function session(options: SessionOptions = {}): Middleware {
  const opts = checkOptions(NAME, options, [...COOKIE_KEYS, 'store', 'state', 'ttl', 'touchAfter', 'now'])
  const store = (opts.store as SessionStore | undefined) ?? memoryStore()
  if (!hasMethods(store, ['get', 'set', 'delete'])) {
    throw new TypeError(`${NAME}: option 'store' must have get, set and delete methods`)
  }
  for (const hook of ['startup', 'shutdown'] as const) {
    if (store[hook] !== undefined && typeof store[hook] !== 'function') {
      throw new TypeError(`${NAME}: the store's '${hook}' must be a method when present`)
    }
  }
  if (opts.state !== undefined && COOKIE_KEYS.some((key) => opts[key] !== undefined)) {
    throw new TypeError(`${NAME}: give option 'state' or the cookie settings, not both`)
  }
  const cookie = readCookieSettings(NAME, opts)
  const state = (opts.state as SessionState | undefined) ?? cookieStateOf(cookie)
  if (!hasMethods(state, ['extract', 'finalize', 'expire'])) {
    throw new TypeError(`${NAME}: option 'state' must have extract, finalize and expire methods`)
  }
  const ttl = optionNumber(NAME, opts, 'ttl', { min: 1, integer: true }) ?? cookie.maxAge ?? 86_400
  const touchAfter = optionNumber(NAME, opts, 'touchAfter', { min: 0 }) ?? ttl / 2
  const now = optionFunction<() => number>(NAME, opts, 'now') ?? Date.now

  /** Writes the store and the state as the app left the session; see the rule above. */
  async function commit(
    ctx: SessionContext,
    changed: string | undefined,
    headers: HeaderList,
    env: Env,
    carried: boolean,
    writtenAt: number,
  ) {
    const options = ctx.options
    const loadedId = ctx.loaded === undefined ? undefined : options.id
    if (options.expire) {
      if (loadedId !== undefined && !options.noStore) await storing(() => store.delete(loadedId))
      if (carried) state.expire(headers, env, options)
      return
    }
    if (options.noStore) return
    let id = loadedId
    if (options.changeId && (loadedId !== undefined || changed !== undefined)) {
      if (loadedId !== undefined) await storing(() => store.delete(loadedId))
      id = options.renew()
    } else if (loadedId === undefined) {
      if (changed === undefined) return // a new session nobody filled: nothing to keep
      id = options.id
    } else if (changed === undefined && now() - writtenAt < touchAfter * 1000) {
      return
    }
    if (id === undefined) return
    const record = encodeRecord(changed ?? JSON.stringify(ctx.data), now())
    await storing(() => store.set(id, record, ttl))
    state.finalize(id, headers, env, options)
  }

  const middleware: Middleware = (app) =>
    async function session(env) {
      const carried = state.extract(env)
      let ctx: SessionContext | undefined
      let writtenAt = 0
      if (carried !== undefined && isValidId(carried)) {
        let text: string | undefined
        try {
          text = await store.get(carried)
        } catch (err) {
          logStoreFailure(env, 'read a session', err)
          return unavailable()
        }
        const record = text === undefined ? undefined : decodeRecord(text)
        if (record !== undefined) {
          ctx = new SessionContext(record.data, carried)
          writtenAt = record.writtenAt
        }
      }
      const current = ctx ?? new SessionContext(undefined, undefined)
      current.install(env)
      return responseCb(await app(env), async (res) => {
        const changed = current.options.expire || current.options.noStore ? undefined : current.changedJson()
        try {
          await commit(current, changed, res[1], env, carried !== undefined, writtenAt)
        } catch (err) {
          // Only the store's failures are a 503; a bad tsgix.session.options is the app's error.
          if (!(err instanceof StoreFailure)) throw err
          logStoreFailure(env, 'save a session', err.cause)
          return makeUnavailable(res)
        }
      })
    }
  if (store.startup === undefined && store.shutdown === undefined) return middleware
  return withLifespan(middleware, {
    startup: store.startup?.bind(store),
    shutdown: store.shutdown?.bind(store),
  })
}

/** A failure of the store, as opposed to one of the app or the state. */
class StoreFailure extends Error {}

async function storing(op: () => Promise<void>): Promise<void> {
  try {
    await op()
  } catch (err) {
    throw new StoreFailure('session store failure', { cause: err })
  }
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  )
}
