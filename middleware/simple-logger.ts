/**
 * SimpleLogger — gives the app a `tsgix.logger` that writes to `tsgi.errors`, dropping messages
 * below a minimum level. Lines look like Plack's:
 * `I [2009-10-18T12:00:00 #4242] INFO: message` (level initial, local time, process id, level).
 *
 * Env keys: sets `tsgix.logger`; its logger writes to `tsgi.errors`.
 *
 * @example
 * builder(enable('SimpleLogger', { level: 'warn' }), app)
 * // in the app: env['tsgix.logger']?.({ level: 'error', message: 'it broke' })
 * @see Plack::Middleware::SimpleLogger, PSGI::Extensions (psgix.logger)
 */
import { checkOptions, optionFunction, optionOneOf } from '../src/options.js'
import type { Logger, LogLevel, Middleware } from '../src/types.js'

/** Options of {@link simpleLogger}. */
export interface SimpleLoggerOptions {
  /** The lowest level written: `debug`, `info`, `warn`, `error` or `fatal`. @default 'debug' */
  readonly level?: LogLevel
  /** The clock for the time stamp. @default () => new Date() */
  readonly now?: () => Date
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal']
const RANK: Readonly<Record<string, number>> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 }

const pad = (n: number) => String(n).padStart(2, '0')

/** Local time as `YYYY-MM-DDTHH:MM:SS`. */
export function logTime(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`
}

/** One log line as SimpleLogger writes it, newline included. */
export function formatLogMessage(level: string, message: string, time: Date): string {
  const name = String(level)
  return `${name.charAt(0).toUpperCase()} [${logTime(time)} #${process.pid}] ${name.toUpperCase()}: ${message}\n`
}

/** Sets `tsgix.logger` to a logger that writes messages at `level` and above to `tsgi.errors`. */
export function simpleLogger(options: SimpleLoggerOptions = {}): Middleware {
  const opts = checkOptions('SimpleLogger', options, ['level', 'now'])
  const min = RANK[optionOneOf('SimpleLogger', opts, 'level', LEVELS) ?? 'debug']!
  const now = optionFunction<() => Date>('SimpleLogger', opts, 'now') ?? (() => new Date())
  return (app) =>
    function simpleLogger(env) {
      const logger: Logger = ({ level, message }) => {
        // An unknown level ranks as debug, as in Plack.
        if ((RANK[level] ?? 0) >= min) env['tsgi.errors'].write(formatLogMessage(level, message, now()))
      }
      env['tsgix.logger'] = logger
      return app(env)
    }
}
