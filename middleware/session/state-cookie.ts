/**
 * The cookie state (Plack::Session::State::Cookie): the client keeps its session id (or, for
 * Session::Cookie, the signed session) in one cookie. `Secure` follows the request's scheme
 * unless set; `HttpOnly` and `SameSite=Lax` are on by default.
 *
 * @example
 * session({ state: cookieState({ sessionKey: 'sid', maxAge: 3600 }), store })
 * @see https://www.rfc-editor.org/rfc/rfc6265 (RFC 6265, HTTP cookies)
 */
import { parse as parseCookie } from 'cookie'
import { headerPush } from '../../src/headers.js'
import {
  checkOptions,
  type OptionBag,
  optionBoolean,
  optionNumber,
  optionOneOf,
  optionString,
} from '../../src/options.js'
import type { Env, HeaderList } from '../../src/types.js'
import type { SessionCookieOverrides, SessionState } from './types.js'

/** Cookie settings, shared by the cookie state, Session and Session::Cookie. */
export interface CookieStateOptions {
  /** Name of the cookie. @default 'tsgi_session' */
  readonly sessionKey?: string
  /** Cookie `Path`. @default '/' */
  readonly path?: string
  /** Cookie `Domain`. @default undefined (the request's host only) */
  readonly domain?: string
  /** Cookie lifetime in seconds (`Max-Age` and `Expires`). @default undefined (until the browser closes) */
  readonly maxAge?: number
  /** Plack's name for {@link maxAge} (seconds from now); give one of the two. @default undefined */
  readonly expires?: number
  /** Cookie `HttpOnly`. @default true */
  readonly httpOnly?: boolean
  /** Cookie `Secure`. @default true when the request came over https, false otherwise */
  readonly secure?: boolean
  /** Cookie `SameSite`. @default 'Lax' */
  readonly sameSite?: 'Strict' | 'Lax' | 'None'
}

/** The keys of {@link CookieStateOptions}. */
export const COOKIE_KEYS = [
  'sessionKey',
  'path',
  'domain',
  'maxAge',
  'expires',
  'httpOnly',
  'secure',
  'sameSite',
]

/** Cookie settings after validation. */
export interface CookieSettings {
  readonly name: string
  readonly path: string
  readonly domain: string | undefined
  readonly maxAge: number | undefined
  readonly httpOnly: boolean
  readonly secure: boolean | undefined
  readonly sameSite: 'Strict' | 'Lax' | 'None'
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const ATTRIBUTE = /^[\u0021-\u003a\u003c-\u007e]*$/

/** Reads and checks the cookie settings of `opts`; errors name `component`. */
export function readCookieSettings(component: string, opts: OptionBag): CookieSettings {
  const name = optionString(component, opts, 'sessionKey') ?? 'tsgi_session'
  if (!TOKEN.test(name)) throw new TypeError(`${component}: option 'sessionKey' must be a cookie name token`)
  const path = optionString(component, opts, 'path') ?? '/'
  const domain = optionString(component, opts, 'domain')
  for (const [key, value] of [
    ['path', path],
    ['domain', domain],
  ] as const) {
    if (value !== undefined && (value === '' || !ATTRIBUTE.test(value))) {
      throw new TypeError(`${component}: option '${key}' must be non-empty visible ASCII without ';'`)
    }
  }
  const maxAge = optionNumber(component, opts, 'maxAge', { min: 0, integer: true })
  const expires = optionNumber(component, opts, 'expires', { min: 0, integer: true })
  if (maxAge !== undefined && expires !== undefined) {
    throw new TypeError(`${component}: give only one of the options 'maxAge' and 'expires'`)
  }
  const secure = optionBoolean(component, opts, 'secure')
  const sameSite = optionOneOf(component, opts, 'sameSite', ['Strict', 'Lax', 'None']) ?? 'Lax'
  if (sameSite === 'None' && secure === false) {
    throw new TypeError(
      `${component}: option 'sameSite' 'None' needs 'secure' (browsers reject it otherwise)`,
    )
  }
  return {
    name,
    path,
    domain,
    maxAge: maxAge ?? expires,
    httpOnly: optionBoolean(component, opts, 'httpOnly') ?? true,
    secure,
    sameSite,
  }
}

/**
 * Builds the `Set-Cookie` value (attributes in the order of the `cookie` package); `expire`
 * sends an empty value that expires at once. Written by hand: `cookie`'s serializer re-checks
 * every attribute on each call, and this runs on every response that saves a session. The
 * settings were checked at build time; `value` is base64url (ids, sealed cookies) and overrides
 * from the app are checked here: a bad one throws a TypeError rather than reach the header.
 */
export function setCookie(
  settings: CookieSettings,
  value: string,
  env: Env,
  overrides: SessionCookieOverrides,
  expire = false,
): string {
  checkOverrides(overrides)
  const maxAge = expire ? 0 : (overrides.maxAge ?? settings.maxAge)
  const domain = overrides.domain ?? settings.domain
  const path = overrides.path ?? settings.path
  let out = `${settings.name}=${value}`
  if (maxAge !== undefined) out += `; Max-Age=${Math.floor(maxAge)}`
  if (domain) out += `; Domain=${domain}`
  out += `; Path=${path}`
  if (maxAge !== undefined)
    out += `; Expires=${new Date(expire ? 0 : Date.now() + maxAge * 1000).toUTCString()}`
  if (overrides.httpOnly ?? settings.httpOnly) out += '; HttpOnly'
  if (overrides.secure ?? settings.secure ?? env['tsgi.url_scheme'] === 'https') out += '; Secure'
  return `${out}; SameSite=${overrides.sameSite ?? settings.sameSite}`
}

const SAME_SITE: readonly unknown[] = ['Strict', 'Lax', 'None']

/** Checks what the app put in `tsgix.session.options`; a bad value throws (the response is then a 500). */
function checkOverrides(overrides: SessionCookieOverrides): void {
  const bad = (key: string, value: unknown, must: string) =>
    new TypeError(
      `Session: tsgix.session.options.${key} ${JSON.stringify(String(value))} is not valid (${must})`,
    )
  const { domain, path, maxAge, sameSite } = overrides
  for (const [key, value] of [
    ['domain', domain],
    ['path', path],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '' || !ATTRIBUTE.test(value))) {
      throw bad(key, value, "non-empty visible ASCII without ';'")
    }
  }
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0)) {
    throw bad('maxAge', maxAge, 'a number of seconds, 0 or more')
  }
  if (sameSite !== undefined && !SAME_SITE.includes(sameSite)) {
    throw bad('sameSite', sameSite, "'Strict', 'Lax' or 'None'")
  }
}

/** The value of the cookie `name` in the request, or undefined. */
export function readCookie(env: Env, name: string): string | undefined {
  const header = env.HTTP_COOKIE
  if (typeof header !== 'string' || !header.includes(name)) return undefined
  return parseCookie(header)[name]
}

/** A cookie state with the given settings. */
export function cookieState(options: CookieStateOptions = {}): SessionState {
  const settings = readCookieSettings('Session', checkOptions('Session', options, COOKIE_KEYS))
  return cookieStateOf(settings)
}

/** A cookie state over settings already checked. */
export function cookieStateOf(settings: CookieSettings): SessionState {
  return {
    extract: (env) => readCookie(env, settings.name),
    finalize(value: string, headers: HeaderList, env: Env, overrides: SessionCookieOverrides) {
      headerPush(headers, 'Set-Cookie', setCookie(settings, value, env, overrides))
    },
    expire(headers: HeaderList, env: Env, overrides: SessionCookieOverrides) {
      headerPush(headers, 'Set-Cookie', setCookie(settings, '', env, overrides, true))
    },
  }
}
