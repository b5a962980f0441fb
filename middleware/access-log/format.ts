/**
 * The access-log format compiler: turns an Apache `mod_log_config` format string into a function
 * from a {@link LogRecord} to a log line, once, when the middleware is built (as Plack's
 * Apache::LogFormat::Compiler does). Values are escaped as Apache escapes them.
 *
 * @see https://httpd.apache.org/docs/current/mod/mod_log_config.html#formats
 */
import { headerGet } from '../../src/headers.js'
import type { Env, HeaderList } from '../../src/types.js'
import { escapeLogItem } from './escape.js'
import { clfTime, compileStrftime } from './strftime.js'

/** Everything a log line can be made of. */
export interface LogRecord {
  readonly env: Env
  readonly status: number
  readonly headers: HeaderList
  /** Bytes of the response body, when known. */
  readonly length: number | undefined
  /** Microseconds taken to serve the request, when measured. */
  readonly duration: number | undefined
  /** When the request was received. */
  readonly start: Date
  /** When the line is written. */
  readonly end: Date
}

/** A compiled format: a log line (without its newline) from a record. */
export type LogFormatter = (record: LogRecord) => string

/** The response as a handler sees it: status and headers. */
export type LogResponse = readonly [status: number, headers: HeaderList]

/** A handler for a `%z` directive of the user's (Plack's `char_handlers`). */
export type CharHandler = (
  env: Env,
  res: LogResponse,
  length: number | undefined,
  duration: number | undefined,
) => unknown

/** A handler for a `%{block}Z` directive of the user's (Plack's `block_handlers`). */
export type BlockHandler = (
  block: string,
  env: Env,
  res: LogResponse,
  length: number | undefined,
  duration: number | undefined,
) => unknown

/** Extra directives for {@link compileLogFormat}. */
export interface LogFormatHandlers {
  readonly charHandlers?: Readonly<Record<string, CharHandler>>
  readonly blockHandlers?: Readonly<Record<string, BlockHandler>>
}

/** The named formats. */
export const LOG_FORMATS: Readonly<Record<string, string>> = {
  common: '%h %l %u %t "%r" %>s %b',
  combined: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"',
}

type Part = string | LogFormatter

const PID = String(process.pid)

/** A value as Apache logs it: '-' when missing or empty, escaped otherwise. */
export function logString(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-'
  return escapeLogItem(String(value))
}

function envValue(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? logString(value)
    : '-'
}

const seconds = (us: number | undefined) => (us === undefined ? '-' : String(Math.floor(us / 1e6)))

const CHARS: Record<string, LogFormatter> = {
  '%': () => '%',
  a: (r) => logString(r.env.REMOTE_ADDR),
  h: (r) => logString(r.env.REMOTE_ADDR),
  l: () => '-',
  u: (r) => logString(r.env.REMOTE_USER),
  t: (r) => `[${clfTime(r.start)}]`,
  r: ({ env }) =>
    `${escapeLogItem(env.REQUEST_METHOD)} ${escapeLogItem(env.REQUEST_URI)} ${escapeLogItem(env.SERVER_PROTOCOL)}`,
  s: (r) => String(r.status),
  b: (r) => (r.length ? String(r.length) : '-'),
  B: (r) => (r.length === undefined ? '-' : String(r.length)),
  T: (r) => seconds(r.duration),
  D: (r) => (r.duration === undefined ? '-' : String(Math.floor(r.duration))),
  v: (r) => logString(r.env.SERVER_NAME),
  V: (r) => logString(r.env.HTTP_HOST || r.env.SERVER_NAME),
  p: (r) => logString(r.env.SERVER_PORT),
  P: () => PID,
  m: (r) => escapeLogItem(r.env.REQUEST_METHOD),
  U: (r) => escapeLogItem(r.env.SCRIPT_NAME + r.env.PATH_INFO),
  q: (r) => (r.env.QUERY_STRING ? `?${escapeLogItem(r.env.QUERY_STRING)}` : ''),
  H: (r) => escapeLogItem(r.env.SERVER_PROTOCOL),
}

const RESERVED = new Set(['CONTENT_LENGTH', 'CONTENT_TYPE'])

function timeBlock(block: string): LogFormatter {
  let format = block
  let pick: (r: LogRecord) => Date = (r) => r.start
  if (format.startsWith('begin:')) format = format.slice(6)
  else if (format.startsWith('end:')) {
    format = format.slice(4)
    pick = (r) => r.end
  }
  const ms = (r: LogRecord) => pick(r).getTime()
  switch (format) {
    case '':
      return (r) => `[${clfTime(pick(r))}]`
    case 'sec':
      return (r) => String(Math.floor(ms(r) / 1000))
    case 'msec':
      return (r) => String(ms(r))
    case 'usec':
      return (r) => String(ms(r) * 1000)
    case 'msec_frac':
      return (r) => String(ms(r) % 1000).padStart(3, '0')
    case 'usec_frac':
      return (r) => `${String(ms(r) % 1000).padStart(3, '0')}000`
  }
  const strftime = compileStrftime(format)
  return (r) => `[${strftime(pick(r))}]`
}

function builtinBlock(block: string, type: string): LogFormatter | string | undefined {
  switch (type) {
    case 'i': {
      let key = block.replace(/-/g, '_').toUpperCase()
      if (!RESERVED.has(key)) key = `HTTP_${key}`
      return block ? (r) => envValue(r.env[key]) : 'needs a header name'
    }
    case 'o':
      return block ? (r) => logString(headerGet(r.headers, block)) : 'needs a header name'
    case 'e':
    case 'n':
      return block ? (r) => envValue(r.env[block]) : 'needs an env key'
    case 't':
      return timeBlock(block)
    case 'T': {
      const div = { s: 1e6, ms: 1e3, us: 1 }[block]
      if (div === undefined) return "takes 's', 'ms' or 'us'"
      return (r) => (r.duration === undefined ? '-' : String(Math.floor(r.duration / div)))
    }
    case 'p':
      if (block === 'remote') return (r) => logString(r.env.REMOTE_PORT)
      return block === 'canonical' || block === 'local' ? CHARS.p! : "takes 'canonical', 'local' or 'remote'"
    case 'P':
      return block === 'pid' ? CHARS.P! : "takes only 'pid'"
    case 'a':
      return block === 'c' ? CHARS.a! : "takes only 'c'"
  }
  return undefined
}

const DIRECTIVE = /%\{([^}]*)\}([a-zA-Z])|%[<>]?([a-zA-Z%])/g

/**
 * Compiles `format` (a named format or a format string). Throws a TypeError naming `component`
 * for a directive it does not know.
 */
export function compileLogFormat(
  format: string,
  handlers: LogFormatHandlers = {},
  component = 'AccessLog',
): LogFormatter {
  const source = LOG_FORMATS[format] ?? format
  const { charHandlers = {}, blockHandlers = {} } = handlers
  const fail = (what: string): never => {
    throw new TypeError(`${component}: option 'format': ${what}`)
  }
  const parts: Part[] = []
  let last = 0
  for (const m of source.matchAll(DIRECTIVE)) {
    if (m.index > last) parts.push(source.slice(last, m.index))
    last = m.index + m[0].length
    const [, block, type, char] = m
    if (type !== undefined) {
      const fn = builtinBlock(block!, type)
      if (typeof fn === 'function') parts.push(fn)
      else if (typeof fn === 'string') fail(`%{${block}}${type} ${fn}`)
      else {
        const user = Object.hasOwn(blockHandlers, type) ? blockHandlers[type] : undefined
        if (!user) fail(`%{${block}}${type} is not supported`)
        else parts.push((r) => logString(user(block!, r.env, [r.status, r.headers], r.length, r.duration)))
      }
    } else {
      const fn = CHARS[char!]
      const user = !fn && Object.hasOwn(charHandlers, char!) ? charHandlers[char!] : undefined
      if (fn) parts.push(fn)
      else if (!user) fail(`%${char} is not supported`)
      else parts.push((r) => logString(user(r.env, [r.status, r.headers], r.length, r.duration)))
    }
  }
  if (last < source.length) parts.push(source.slice(last))
  return function formatLogLine(record) {
    let line = ''
    for (const part of parts) line += typeof part === 'string' ? part : part(record)
    return line
  }
}
