/**
 * The options AccessLog and AccessLog::Timed share, and their checking: a format (named or an
 * Apache format string, compiled here once) or a compiled one, a logger, extra directive
 * handlers and a clock.
 */
import { headerGet } from '../../src/headers.js'
import { checkOptions, optionFunction, optionString } from '../../src/options.js'
import type { Env, HeaderList } from '../../src/types.js'
import { type BlockHandler, type CharHandler, compileLogFormat, type LogFormatter } from './format.js'

/** Options of AccessLog and AccessLog::Timed. */
export interface AccessLogOptions {
  /**
   * `'combined'`, `'common'`, or an Apache `mod_log_config` format string such as
   * `'%h %l %u %t "%r" %>s %b %D'`, compiled once.
   * @default 'combined'
   */
  readonly format?: string
  /**
   * Receives each log line, newline included.
   * @default writes the line to env['tsgi.errors']
   */
  readonly logger?: (line: string) => void
  /** Extra one-letter directives (`%z`), by letter: `(env, [status, headers], length, duration) => value`. @default {} */
  readonly charHandlers?: Readonly<Record<string, CharHandler>>
  /** Extra block directives (`%{...}Z`), by letter: `(block, env, [status, headers], length, duration) => value`. @default {} */
  readonly blockHandlers?: Readonly<Record<string, BlockHandler>>
  /** A format compiled beforehand (with `compileLogFormat`), used instead of `format`. @default none */
  readonly compiledFormat?: LogFormatter
  /**
   * The clock for `%t` and `%{...}t`; when given, AccessLog::Timed also measures `%D`/`%T` with
   * it (to the millisecond), so tests need no sleeps.
   * @default () => new Date(), and performance.now for durations
   */
  readonly now?: () => Date
}

/** Resolved options. */
export interface AccessLogSettings {
  readonly formatter: LogFormatter
  readonly write: (env: Env, line: string) => void
  readonly now: () => Date
  /** Milliseconds for durations from a `now()` date: its own time when `now` was given, else performance.now. */
  readonly clockMs: (date: Date) => number
}

const KEYS = ['format', 'logger', 'charHandlers', 'blockHandlers', 'compiledFormat', 'now']

function handlerMap<H>(
  component: string,
  opts: Readonly<Record<string, unknown>>,
  key: string,
): Record<string, H> {
  const value = opts[key]
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${component}: option '${key}' must be an object of handler functions`)
  }
  for (const [letter, fn] of Object.entries(value)) {
    if (!/^[a-zA-Z]$/.test(letter)) {
      throw new TypeError(`${component}: option '${key}': '${letter}' is not a single letter`)
    }
    if (typeof fn !== 'function') {
      throw new TypeError(`${component}: option '${key}': the handler for '${letter}' must be a function`)
    }
  }
  return value as Record<string, H>
}

const toErrors = (env: Env, line: string) => {
  env['tsgi.errors'].write(line)
}

/** Checks `options` for `component` and compiles the format. */
export function accessLogSettings(component: string, options: unknown): AccessLogSettings {
  const opts = checkOptions(component, options, KEYS)
  const format = optionString(component, opts, 'format')
  const compiled = optionFunction<LogFormatter>(component, opts, 'compiledFormat')
  const logger = optionFunction<(line: string) => void>(component, opts, 'logger')
  const clock = optionFunction<() => Date>(component, opts, 'now')
  const now = clock ?? (() => new Date())
  const clockMs = clock ? (date: Date) => date.getTime() : () => performance.now()
  const charHandlers = handlerMap<CharHandler>(component, opts, 'charHandlers')
  const blockHandlers = handlerMap<BlockHandler>(component, opts, 'blockHandlers')
  if (compiled && format !== undefined) {
    throw new TypeError(`${component}: options 'format' and 'compiledFormat' exclude each other`)
  }
  const formatter =
    compiled ?? compileLogFormat(format || 'combined', { charHandlers, blockHandlers }, component)
  return { formatter, now, clockMs, write: logger ? (_env, line) => logger(line) : toErrors }
}

/** The body length a `Content-Length` header states, if it is a valid one. */
export function declaredLength(headers: HeaderList): number | undefined {
  const value = headerGet(headers, 'Content-Length')
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined
}
