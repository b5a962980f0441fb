/**
 * Lint's checks on a request env, before the app is called: every key the TSGI spec requires is
 * present and well-formed, and the optional `tsgix.*` keys, when present, have their types.
 * Each check returns the first problem as a message (without the layer label), or undefined.
 */
import { isAsyncIterable } from '../../src/body.js'
import { isHeaderName } from '../../src/headers.js'
import { envKey, show } from './show.js'

type Fields = Record<string, unknown>
type Test = (value: unknown, env: Fields) => boolean

const isString: Test = (v) => typeof v === 'string'
const isBoolean: Test = (v) => typeof v === 'boolean'
const isFunction: Test = (v) => typeof v === 'function'
const isNonEmpty: Test = (v) => typeof v === 'string' && v !== ''

/** Required keys that are plain strings, with the form each must have beyond being a string. */
const CGI: readonly (readonly [key: string, test: Test, must: string])[] = [
  ['REQUEST_METHOD', (v) => isHeaderName(v as string), 'a non-empty token (RFC 9110)'],
  [
    'SCRIPT_NAME',
    (v) => v === '' || (v !== '/' && (v as string)[0] === '/'),
    "'' or start with '/' (and not be '/')",
  ],
  [
    'PATH_INFO',
    (v, env) => v === '' || (v as string)[0] === '/' || targetIsNotAPath(env),
    "'' or start with '/'",
  ],
  ['REQUEST_URI', () => true, 'a string'],
  ['QUERY_STRING', () => true, "a string ('' when there is no query)"],
  ['SERVER_NAME', isNonEmpty, 'a non-empty string'],
  ['SERVER_PORT', isNonEmpty, 'a non-empty string'],
  ['SERVER_PROTOCOL', (v) => /^HTTP\/\d/.test(v as string), "like 'HTTP/1.1'"],
]

/** Optional CGI keys: when present, strings of this form. */
const CGI_OPTIONAL: readonly (readonly [key: string, test: Test, must: string])[] = [
  ['CONTENT_LENGTH', (v) => /^\d+$/.test(v as string), 'a string of digits'],
  ['CONTENT_TYPE', () => true, 'a string'],
  ['REMOTE_ADDR', () => true, 'a string'],
  ['REMOTE_PORT', () => true, 'a string'],
  ['REMOTE_USER', () => true, 'a string'],
]

const FLAGS = ['tsgi.multithread', 'tsgi.multiprocess', 'tsgi.run_once', 'tsgi.nonblocking', 'tsgi.streaming']

/** Optional extension keys: when present, of this type. */
const EXTENSIONS: readonly (readonly [key: string, test: Test, must: string])[] = [
  ['tsgix.signal', (v) => v instanceof AbortSignal, 'an AbortSignal'],
  ['tsgix.cleanup', isBoolean, 'a boolean'],
  [
    'tsgix.cleanup.handlers',
    (v) => Array.isArray(v) && v.every((h) => typeof h === 'function'),
    'an array of functions',
  ],
  ['tsgix.logger', isFunction, 'a function'],
  ['tsgix.input.buffered', isBoolean, 'a boolean'],
  ['tsgix.early_hints', isFunction, 'a function'],
  ['tsgix.harakiri', isBoolean, 'a boolean'],
  ['tsgix.reason_phrase', isString, 'a string'],
  [
    'tsgix.route.params',
    (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
    'an object of parameters',
  ],
]

function bad(key: string, must: string, value: unknown): string {
  return `${envKey(key)} must be ${must}, got ${show(value)}`
}

function cgiProblem(env: Fields): string | undefined {
  for (const [key, test, must] of CGI) {
    const value = env[key]
    if (value === undefined) return `${envKey(key)} is missing`
    if (typeof value !== 'string') return bad(key, 'a string', value)
    if (!test(value, env)) return bad(key, must, value)
  }
  for (const [key, test, must] of CGI_OPTIONAL) {
    const value = env[key]
    if (value === undefined) continue
    if (typeof value !== 'string') return bad(key, 'a string', value)
    if (!test(value, env)) return bad(key, must, value)
  }
  if (env.SCRIPT_NAME === '' && env.PATH_INFO === '' && !targetIsNotAPath(env)) {
    return "env.SCRIPT_NAME and env.PATH_INFO are both '': one of them must be set (PATH_INFO is '/' for a request to '/')"
  }
  for (const key in env) {
    if (!key.startsWith('HTTP_')) continue
    if (key === 'HTTP_CONTENT_TYPE' || key === 'HTTP_CONTENT_LENGTH') {
      return `${envKey(key)} must not exist (the header goes in ${key.slice(5)})`
    }
    const value = env[key]
    if (typeof value !== 'string') return bad(key, 'a string', value)
  }
  return undefined
}

/**
 * CONNECT's authority form (`host:port`) and `OPTIONS *` name no path: PATH_INFO may then be ''
 * or carry the target as is.
 */
function targetIsNotAPath(env: Fields): boolean {
  return env.REQUEST_METHOD === 'CONNECT' || env.REQUEST_URI === '*'
}

function tsgiProblem(env: Fields): string | undefined {
  const version = env['tsgi.version']
  if (version === undefined) return `${envKey('tsgi.version')} is missing`
  if (!Array.isArray(version) || version.length !== 2 || version[0] !== 1 || version[1] !== 0) {
    return bad('tsgi.version', '[1, 0]', version)
  }
  const scheme = env['tsgi.url_scheme']
  if (scheme === undefined) return `${envKey('tsgi.url_scheme')} is missing`
  if (scheme !== 'http' && scheme !== 'https') return bad('tsgi.url_scheme', "'http' or 'https'", scheme)
  const input = env['tsgi.input']
  if (input === undefined) return `${envKey('tsgi.input')} is missing`
  if (!isAsyncIterable(input)) return bad('tsgi.input', 'an async iterable of Uint8Array', input)
  const errors = env['tsgi.errors']
  if (errors === undefined) return `${envKey('tsgi.errors')} is missing`
  if (errors === null || typeof (errors as { write?: unknown }).write !== 'function') {
    return bad('tsgi.errors', 'an object with a write() method', errors)
  }
  for (const key of FLAGS) {
    const value = env[key]
    if (value === undefined) return `${envKey(key)} is missing`
    if (typeof value !== 'boolean') return bad(key, 'a boolean', value)
  }
  return undefined
}

function extensionProblem(env: Fields): string | undefined {
  for (const [key, test, must] of EXTENSIONS) {
    const value = env[key]
    if (value !== undefined && !test(value, env)) return bad(key, must, value)
  }
  if (env['tsgix.cleanup'] === true && env['tsgix.cleanup.handlers'] === undefined) {
    return `${envKey('tsgix.cleanup.handlers')} is missing (required when tsgix.cleanup is true)`
  }
  return undefined
}

/** The first thing wrong with `env`, or undefined when it follows the spec. */
export function envProblem(env: unknown): string | undefined {
  if (env === null || typeof env !== 'object' || Array.isArray(env)) {
    return `env must be an object, got ${show(env)}`
  }
  const fields = env as Fields
  return cgiProblem(fields) ?? tsgiProblem(fields) ?? extensionProblem(fields)
}
