/**
 * Session::Cookie — stateless sessions: the whole session travels in one signed cookie
 * (HMAC-SHA256), optionally encrypted (AES-256-GCM), with its expiry inside the signed
 * payload. No server storage, so any number of processes share sessions with nothing but the
 * secret. `secrets` allows rotation: the first signs, any of them is accepted.
 *
 * A cookie is sent only when the app changed the session (its JSON differs from the JSON as
 * it arrived), asked for `changeId`, or the payload is older than `touchAfter` (renewing
 * its expiry); `expire` expires the cookie. A cookie that is tampered, truncated, oversized,
 * malformed, signed with an unknown secret or past its expiry starts a fresh session. A
 * warning goes to `tsgi.errors` when a `Set-Cookie` passes 4096 bytes (browsers drop it).
 *
 * Env keys read: `HTTP_COOKIE`, `tsgi.url_scheme`. Added: `tsgix.session`,
 * `tsgix.session.options` (typed in `session.ts`).
 *
 * @example
 * builder(enable('Session::Cookie', { secrets: [process.env.SESSION_SECRET!], encrypt: true }), app)
 * @see https://www.rfc-editor.org/rfc/rfc2104 (HMAC), https://www.rfc-editor.org/rfc/rfc5869 (HKDF)
 * @see Plack::Middleware::Session::Cookie
 */
import { headerPush } from '../src/headers.js'
import { checkOptions, optionBoolean, optionFunction, optionNumber } from '../src/options.js'
import { responseCb } from '../src/response-cb.js'
import type { Env, HeaderList, Middleware } from '../src/types.js'
import { isPlainObject, SessionContext } from './session/context.js'
import { deriveKeys, open, seal } from './session/cookie-codec.js'
import { isValidId } from './session/id.js'
import {
  COOKIE_KEYS,
  type CookieStateOptions,
  readCookie,
  readCookieSettings,
  setCookie,
} from './session/state-cookie.js'
import type { SessionData, SessionEnvOptions } from './session/types.js'

export type { SessionCookieOverrides, SessionData, SessionEnvOptions } from './session/types.js'

declare module '../src/types.js' {
  interface Env {
    /** The session data (Session, Session::Cookie). */
    'tsgix.session'?: SessionData
    /** The session's id and per-request switches (Session, Session::Cookie). */
    'tsgix.session.options'?: SessionEnvOptions
  }
}

/** Options of {@link sessionCookie}. One of `secret` and `secrets` is required. */
export interface SessionCookieOptions extends CookieStateOptions {
  /** The secret that signs (and encrypts) cookies; at least 16 characters. @default undefined */
  readonly secret?: string
  /** Secrets, newest first: the first seals, all are accepted (rotation). @default undefined */
  readonly secrets?: readonly string[]
  /** Encrypt the payload (AES-256-GCM) as well as signing it. @default false */
  readonly encrypt?: boolean
  /** Seconds a cookie's payload stays valid after it was issued. @default maxAge, else 86400 */
  readonly ttl?: number
  /** Seconds after which an unchanged session is re-issued with a new expiry. @default half of ttl */
  readonly touchAfter?: number
  /** The clock, in milliseconds (for tests). @default Date.now */
  readonly now?: () => number
}

const NAME = 'Session::Cookie'
/** Browsers keep cookies up to 4096 bytes (RFC 6265 §6.1). */
const COOKIE_LIMIT = 4096

interface Payload {
  readonly i: string
  readonly e: number
  readonly d: SessionData
}

/** Keeps the whole session in a signed (optionally encrypted) cookie. */
export function sessionCookie(options: SessionCookieOptions): Middleware {
  const keys = ['secret', 'secrets', 'encrypt', 'ttl', 'touchAfter', 'now']
  const opts = checkOptions(NAME, options, [...COOKIE_KEYS, ...keys])
  const secrets = readSecrets(opts.secret, opts.secrets)
  const derived = secrets.map(deriveKeys)
  const sealing = derived[0]!
  const encrypt = optionBoolean(NAME, opts, 'encrypt') ?? false
  const cookie = readCookieSettings(NAME, opts)
  const ttl = optionNumber(NAME, opts, 'ttl', { min: 1, integer: true }) ?? cookie.maxAge ?? 86_400
  const touchAfter = optionNumber(NAME, opts, 'touchAfter', { min: 0 }) ?? ttl / 2
  const now = optionFunction<() => number>(NAME, opts, 'now') ?? Date.now

  /** The payload of a valid, unexpired cookie, or undefined. */
  function read(value: string | undefined): Payload | undefined {
    if (value === undefined) return undefined
    const json = open(value, derived, encrypt)
    if (json === undefined) return undefined
    try {
      const p = JSON.parse(json) as Partial<Payload>
      const ok = isValidId(p.i) && typeof p.e === 'number' && p.e > now() && isPlainObject(p.d)
      return ok ? (p as Payload) : undefined
    } catch {
      return undefined
    }
  }

  function finalize(ctx: SessionContext, headers: HeaderList, env: Env, carried: boolean, expiresAt: number) {
    const options = ctx.options
    if (options.expire) {
      if (carried) headerPush(headers, 'Set-Cookie', setCookie(cookie, '', env, options, true))
      return
    }
    if (options.noStore) return
    const changed = ctx.changedJson()
    const loaded = ctx.loaded !== undefined
    if (options.changeId && (loaded || changed !== undefined)) options.renew()
    else if (!loaded && changed === undefined) return
    else if (loaded && changed === undefined && expiresAt - now() > (ttl - touchAfter) * 1000) return
    const json = `{"i":${JSON.stringify(options.id)},"e":${now() + ttl * 1000},"d":${changed ?? JSON.stringify(ctx.data)}}`
    const header = setCookie(cookie, seal(json, sealing, encrypt), env, options)
    if (Buffer.byteLength(header) > COOKIE_LIMIT) {
      env['tsgi.errors'].write(
        `${NAME}: the session cookie is ${Buffer.byteLength(header)} bytes, past the ${COOKIE_LIMIT}-byte limit of browsers; it will likely be dropped\n`,
      )
    }
    headerPush(headers, 'Set-Cookie', header)
  }

  return (app) =>
    async function sessionCookie(env) {
      const value = readCookie(env, cookie.name)
      const payload = read(value)
      const ctx = new SessionContext(payload?.d, payload?.i)
      ctx.install(env)
      return responseCb(await app(env), (res) => {
        finalize(ctx, res[1], env, value !== undefined, payload?.e ?? 0)
      })
    }
}

function readSecrets(secret: unknown, secrets: unknown): string[] {
  if ((secret === undefined) === (secrets === undefined)) {
    throw new TypeError(
      `${NAME}: exactly one of the options 'secret' and 'secrets' is required (it signs the cookies)`,
    )
  }
  const list = secret === undefined ? secrets : [secret]
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(`${NAME}: option 'secrets' must be a non-empty array of strings`)
  }
  for (const s of list) {
    if (typeof s !== 'string' || s.length < 16) {
      const key = secret === undefined ? 'secrets' : 'secret'
      throw new TypeError(
        `${NAME}: option '${key}' must be a string of at least 16 characters (use random bytes)`,
      )
    }
  }
  return list as string[]
}
