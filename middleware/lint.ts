/**
 * Lint — checks that the server (or an outer layer) hands the app a valid env, and that the app
 * (or an inner layer) gives back a valid response, against the TSGI spec. Put it between layers
 * while developing a server, a framework adapter or a middleware; name each instance so a message
 * says which layer boundary broke the contract.
 *
 * Before the app: every required env key present and typed, optional `tsgix.*` keys typed. A bad
 * env throws an Error at once (the caller broke the contract). After the app: the result's shape,
 * status, headers (the server's own validation plus Lint's stricter rules) and body; a streamed
 * body is checked chunk by chunk as it passes, and a delayed response's responder and writer are
 * checked call by call. Nothing is buffered; a plain result stays plain, a promise stays a promise.
 *
 * Env keys: reads every key it checks and `tsgi.errors` (non-strict reports); adds none.
 *
 * @example
 * builder(enable('Lint', { name: 'outer' }), enable('Session'), enable('Lint', { name: 'after Session' }), app)
 * @example
 * lint({ strict: false })(app) // report to tsgi.errors, let responses through
 * @see docs/spec.md, Plack::Middleware::Lint
 */
import type { Env, Middleware } from '../src/types.js'
import { envProblem } from './lint/env.js'
import { lintResult, type Report } from './lint/response.js'
import { show } from './lint/show.js'

/** Options of {@link lint}. */
export interface LintOptions {
  /**
   * Names this layer in every message, as `Lint(<name>)`, so a stack with several Lint layers
   * says which one reported, e.g. `'after Session'` gives `Lint(after Session): …`.
   * @default none: messages start with `Lint:`
   */
  readonly name?: string
  /**
   * When true, a response violation throws an Error (the server answers 500 and logs it; on a
   * writer or a streamed body the call rejects). When false, the message goes to `tsgi.errors`
   * and the response passes through unchanged. Env violations always throw.
   * @default true
   */
  readonly strict?: boolean
}

const KEYS = new Set(['name', 'strict'])

function resolve(options: unknown): { label: string; strict: boolean } {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`Lint: options must be an object, got ${show(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) throw new TypeError(`Lint: unknown option "${key}" (known: name, strict)`)
  }
  const { name, strict } = options as { name?: unknown; strict?: unknown }
  if (name !== undefined && (typeof name !== 'string' || name === '' || /[\r\n]/.test(name))) {
    throw new TypeError(`Lint: option name must be a non-empty one-line string, got ${show(name)}`)
  }
  if (strict !== undefined && typeof strict !== 'boolean') {
    throw new TypeError(`Lint: option strict must be a boolean, got ${show(strict)}`)
  }
  return { label: name === undefined ? 'Lint' : `Lint(${name})`, strict: strict ?? true }
}

/** Wraps an app so that its env and its response are checked against the TSGI spec. */
export function lint(options: LintOptions = {}): Middleware {
  const { label, strict } = resolve(options)
  const raise: Report = (problem) => {
    throw new Error(`${label}: ${problem}`)
  }
  return (app) => {
    if (typeof app !== 'function') {
      throw new TypeError(`${label}: the wrapped app must be a function, got ${show(app)}`)
    }
    return function lintApp(env) {
      const problem = envProblem(env)
      if (problem) throw new Error(`${label}: ${problem}`)
      const report: Report = strict ? raise : logTo(env, label)
      return lintResult(app(env), report, env['tsgix.websocket'] !== undefined)
    }
  }
}

function logTo(env: Env, label: string): Report {
  return (problem) => {
    env['tsgi.errors'].write(`${label}: ${problem}\n`)
  }
}
