/**
 * rescue — calls an app and hands any error it raises before the response head is sent to a
 * handler: a synchronous throw, a rejected promise, or a throw or rejection inside a delayed
 * response before it called `respond`. The handler returns the response to send instead, or
 * throws (to pass the error on). Errors after the head was sent are passed on untouched: the
 * response is already under way and only the server can end it (it logs and aborts).
 *
 * The exception-catching middleware (HTTPExceptions, StackTrace, Recursive) are made of this.
 *
 * @example
 * return rescue(app, env, (err) => { if (errorStatus(err)) return [404, [], ['gone']]; throw err })
 */
import { isPromiseLike } from './body.js'
import type { App, AppResult, Delayed, Env, Responder } from './types.js'

type Maybe<T> = T | PromiseLike<T>

/** Turns an error raised before the head into a response, or throws to pass it on. */
export type ErrorHandler = (err: unknown) => Maybe<AppResult>

/** Runs `app(env)`, answering errors raised before the response head with `onError`. */
export function rescue(app: App, env: Env, onError: ErrorHandler): AppResult | Promise<AppResult> {
  let res: Maybe<AppResult>
  try {
    res = app(env)
  } catch (err) {
    const answer = onError(err)
    return isPromiseLike<AppResult>(answer) ? Promise.resolve(answer) : answer
  }
  if (isPromiseLike<AppResult>(res)) {
    return Promise.resolve(res).then((r) => guard(r, onError), onError)
  }
  return guard(res, onError)
}

function guard(res: AppResult, onError: ErrorHandler): AppResult {
  return typeof res === 'function' ? guardDelayed(res, onError) : res
}

function guardDelayed(delayed: Delayed, onError: ErrorHandler): Delayed {
  return function rescued(respond) {
    let started = false
    const responder = ((r: Parameters<Responder>[0]) => {
      started = true
      return respond(r)
    }) as Responder
    const fail = (err: unknown): void | Promise<void> => {
      if (started) throw err
      started = true
      const answer = onError(err)
      return isPromiseLike<AppResult>(answer)
        ? Promise.resolve(answer).then((a) => send(a, respond))
        : send(answer, respond)
    }
    try {
      const ran = delayed(responder)
      if (isPromiseLike(ran)) return Promise.resolve(ran).then(() => {}, fail)
    } catch (err) {
      return fail(err)
    }
  }
}

function send(res: AppResult, respond: Responder): void | Promise<void> {
  if (typeof res === 'function') return res(respond)
  respond(res)
}
