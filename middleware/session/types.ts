/**
 * The parts of a session: the data an app sees, the per-request options in
 * `tsgix.session.options`, and the two pluggable interfaces, {@link SessionState} (where the
 * client keeps its id) and {@link SessionStore} (where the server keeps the data).
 */
import type { Env, HeaderList } from '../../src/types.js'

/** The session as the app sees it in `env['tsgix.session']`: a plain, JSON-serialisable object. */
export type SessionData = Record<string, unknown>

/** Cookie attributes an app may override for one response through `tsgix.session.options`. */
export interface SessionCookieOverrides {
  /** Cookie `Path`. */
  path?: string
  /** Cookie `Domain`. */
  domain?: string
  /** Cookie `Max-Age` in seconds (also sets `Expires`). */
  maxAge?: number
  /** Cookie `Secure`. */
  secure?: boolean
  /** Cookie `HttpOnly`. */
  httpOnly?: boolean
  /** Cookie `SameSite`. */
  sameSite?: 'Strict' | 'Lax' | 'None'
}

/** `env['tsgix.session.options']`: Plack's `psgix.session.options` in camelCase. */
export interface SessionEnvOptions extends SessionCookieOverrides {
  /** The session id (created on first read for a new session). */
  readonly id: string
  /** Set to end the session: the record is deleted and the client told to forget it. */
  expire?: boolean
  /** Set to give the session a new id and delete the old record (do it at login). */
  changeId?: boolean
  /** Set to leave the store untouched for this request (and send no cookie for it). */
  noStore?: boolean
}

/**
 * A session store: keeps opaque strings (written by the middleware) under session ids, each
 * with a time to live. Every method may reject (a store that is down); the middleware answers
 * 503 then. Ids reaching a store always match `ID_PATTERN`. A store with `startup`/`shutdown`
 * takes part in the server's lifespan through the Session middleware (spec 5.8).
 */
export interface SessionStore {
  /** The value stored under `id`, or undefined when there is none (or it expired). */
  get(id: string): Promise<string | undefined>
  /** Stores `value` under `id` for `ttl` seconds, replacing what was there. */
  set(id: string, value: string, ttl: number): Promise<void>
  /** Removes the value under `id` (no error when there is none). */
  delete(id: string): Promise<void>
  /** Optional: run when the server starts, before its first connection (a lifespan startup hook): connect here; a rejection stops the start. */
  startup?(): Promise<void>
  /** Optional: run when the server stops, after the drain (a lifespan shutdown hook): close connections here. */
  shutdown?(): Promise<void>
}

/** Where the client keeps its session id (or, for Session::Cookie, the whole session). */
export interface SessionState {
  /** The value the request carries, unchecked, or undefined. */
  extract(env: Env): string | undefined
  /** Adds `value` to the response headers. */
  finalize(value: string, headers: HeaderList, env: Env, overrides: SessionCookieOverrides): void
  /** Tells the client to forget its value. */
  expire(headers: HeaderList, env: Env, overrides: SessionCookieOverrides): void
}
