/**
 * Auth::Basic — HTTP Basic authentication: requests without valid credentials get
 * `401 Unauthorized` with a `WWW-Authenticate: Basic realm="…"` challenge; the others reach
 * the app with `REMOTE_USER` set. Credentials are checked by an `authenticator` (sync or
 * async) or against a fixed `users` table, compared in constant time.
 *
 * Env keys read: `HTTP_AUTHORIZATION`. Set: `REMOTE_USER` (on success).
 *
 * @example
 * builder(enable('Auth::Basic', { authenticator: (user, pass) => user === 'admin' && pass === secret }), app)
 * @see https://www.rfc-editor.org/rfc/rfc7617 (RFC 7617, the Basic scheme)
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-11 (RFC 9110 §11, HTTP authentication)
 * @see Plack::Middleware::Auth::Basic
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { isHeaderValue } from '../src/headers.js'
import { checkOptions, optionFunction, optionString } from '../src/options.js'
import type { Env, Middleware, Triple } from '../src/types.js'

/** Decides whether a user name and password are valid; may use the env and may be async. */
export type BasicAuthenticator = (user: string, password: string, env: Env) => boolean | Promise<boolean>

/** Options of {@link authBasic}. Exactly one of `authenticator` and `users` is required. */
export interface AuthBasicOptions {
  /** Checks the credentials of each request. @default undefined */
  readonly authenticator?: BasicAuthenticator
  /** User name → password; passwords are compared in constant time (as SHA-256 digests). @default undefined */
  readonly users?: Readonly<Record<string, string>>
  /** The realm named in the challenge. @default 'restricted area' */
  readonly realm?: string
}

const NAME = 'Auth::Basic'
const CREDENTIALS = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i
// biome-ignore lint/suspicious/noControlCharactersInRegex: RFC 7617 forbids control characters in user-ids
const CONTROL = /[\u0000-\u001f\u007f]/
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Asks for and checks HTTP Basic credentials. */
export function authBasic(options: AuthBasicOptions): Middleware {
  const opts = checkOptions(NAME, options, ['authenticator', 'users', 'realm'])
  const given = optionFunction<BasicAuthenticator>(NAME, opts, 'authenticator')
  const users = opts.users
  if ((given === undefined) === (users === undefined)) {
    throw new TypeError(`${NAME}: exactly one of the options 'authenticator' and 'users' is required`)
  }
  const authenticator = given ?? usersAuthenticator(users)
  const realm = optionString(NAME, opts, 'realm') ?? 'restricted area'
  if (!isHeaderValue(realm)) throw new TypeError(`${NAME}: option 'realm' must not contain CR, LF or NUL`)
  const body = 'Authorization required'
  const challenge = `Basic realm="${realm.replace(/["\\]/g, '\\$&')}"`
  const unauthorized = (): Triple => [
    401,
    [
      'Content-Type',
      'text/plain; charset=utf-8',
      'Content-Length',
      String(Buffer.byteLength(body)),
      'WWW-Authenticate',
      challenge,
    ],
    [body],
  ]

  return (app) =>
    async function authBasic(env) {
      const credentials = parseCredentials(env.HTTP_AUTHORIZATION)
      if (credentials === undefined) return unauthorized()
      const [user, password] = credentials
      if (!(await authenticator(user, password, env))) return unauthorized()
      env.REMOTE_USER = user
      return app(env)
    }
}

/**
 * The user name and password of a `Basic` Authorization header, or undefined when it is
 * missing, of another scheme or malformed (not base64, no colon, control characters in the
 * user name). Bytes are read as UTF-8 when valid, as ISO-8859-1 otherwise.
 */
export function parseCredentials(header: unknown): [user: string, password: string] | undefined {
  if (typeof header !== 'string') return undefined
  const match = CREDENTIALS.exec(header)
  if (!match || match[1]!.length % 4 === 1) return undefined
  const bytes = Buffer.from(match[1]!, 'base64')
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    text = bytes.toString('latin1')
  }
  const colon = text.indexOf(':')
  if (colon < 0) return undefined
  const user = text.slice(0, colon)
  if (CONTROL.test(user)) return undefined
  return [user, text.slice(colon + 1)]
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

/** An authenticator over a fixed table; the same work is done whether the user exists or not. */
function usersAuthenticator(users: unknown): BasicAuthenticator {
  const ok =
    users !== null &&
    typeof users === 'object' &&
    !Array.isArray(users) &&
    Object.keys(users).length > 0 &&
    Object.values(users).every((v) => typeof v === 'string')
  if (!ok) {
    throw new TypeError(`${NAME}: option 'users' must be a non-empty object of user name → password strings`)
  }
  const table = new Map<string, Buffer>()
  for (const [user, password] of Object.entries(users as Record<string, string>))
    table.set(user, digest(password))
  const decoy = digest('')
  return (user, password) => {
    const expected = table.get(user)
    const same = timingSafeEqual(digest(password), expected ?? decoy)
    return expected !== undefined && same
  }
}
