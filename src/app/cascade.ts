/**
 * Cascade — tries apps in order and answers with the first response whose status is not one
 * of the "try the next one" statuses (404 by default), as Plack::App::Cascade. The last app's
 * response is always used. The bodies of skipped responses are closed (`return()` on their
 * iterator), never read.
 *
 * While the apps return finished responses (`[status, headers, body]`), so does the cascade.
 * A delayed response is run to see its status: answered with a caught status, its body (or
 * anything it writes to its writer) is dropped and the next app is tried at once; otherwise it
 * is the response. A writer response's head decides: the cascade cannot look at the body first.
 *
 * @example
 * const app = cascade([staticFiles, dynamicPages], { catch: [404, 405] })
 * @see Plack::App::Cascade
 */
import { discardBody } from '../body.js'
import { checkOptions } from '../options.js'
import type { App, AppResult, Body, Delayed, Env, Responder, Triple, Writer } from '../types.js'

/** Options of {@link cascade}. */
export interface CascadeOptions {
  /** Statuses that mean "try the next app". @default [404] */
  readonly catch?: readonly number[]
}

const NAME = 'Cascade'
const sink: Writer = { write: async () => {}, close: async () => {} }

/** A list of apps tried in order; `toApp()` makes the app. Apps added later are tried too. */
export class Cascade {
  readonly #apps: App[] = []
  readonly #codes: ReadonlySet<number>

  constructor(apps: readonly App[] = [], options: CascadeOptions = {}) {
    const opts = checkOptions(NAME, options, ['catch'])
    const codes = opts.catch ?? [404]
    if (!Array.isArray(codes) || !codes.every((c) => Number.isInteger(c) && c >= 100 && c <= 999)) {
      throw new TypeError(`${NAME}: option 'catch' must be an array of integer statuses from 100 to 999`)
    }
    this.#codes = new Set(codes as number[])
    if (!Array.isArray(apps)) throw new TypeError(`${NAME}: apps must be an array of apps`)
    this.add(...apps)
  }

  /** Appends apps to try after the current ones. */
  add(...apps: App[]): this {
    for (const app of apps) {
      if (typeof app !== 'function')
        throw new TypeError(`${NAME}: an app must be a function, got ${typeof app}`)
      this.#apps.push(app)
    }
    return this
  }

  /** The apps, in order. */
  get apps(): readonly App[] {
    return [...this.#apps]
  }

  /** The cascade as an app. */
  toApp(): App {
    return (env) => this.call(env)
  }

  /** Handles one request. */
  call(env: Env): AppResult | Promise<AppResult> {
    const apps = [...this.#apps]
    if (apps.length === 0) return [404, ['Content-Type', 'text/html'], ['404 Not Found']]
    return run(apps, this.#codes, env)
  }
}

/** A cascade of `apps`, as an app. */
export function cascade(apps: readonly App[], options: CascadeOptions = {}): App {
  return new Cascade(apps, options).toApp()
}

async function run(apps: readonly App[], codes: ReadonlySet<number>, env: Env): Promise<AppResult> {
  for (let i = 0; ; i++) {
    const res = await apps[i]!(env)
    const last = i === apps.length - 1
    if (typeof res === 'function') {
      const from = i
      return last ? res : (respond) => runDelayed(res, from, respond, { apps, codes, env })
    }
    if (last || !codes.has(res[0])) return res
    discard(env, res[2])
  }
}

interface Run {
  readonly apps: readonly App[]
  readonly codes: ReadonlySet<number>
  readonly env: Env
}

/** Runs the apps from `from` on, in delayed mode: the first one not caught gets `respond`. */
async function continueFrom(from: number, respond: Responder, r: Run): Promise<void> {
  for (let i = from; i < r.apps.length; i++) {
    const res = await r.apps[i]!(r.env)
    const last = i === r.apps.length - 1
    if (typeof res === 'function') return last ? res(respond) : runDelayed(res, i, respond, r)
    if (last || !r.codes.has(res[0])) return void respond(res)
    discard(r.env, res[2])
  }
}

/** Runs a delayed response of app `i`; a caught status hands over to the next app. */
function runDelayed(delayed: Delayed, i: number, respond: Responder, r: Run): Promise<void> {
  return new Promise((resolve, reject) => {
    let handedOff = false
    let responded = false
    let settled = false
    const responder = ((res: Triple | [number, string[]]) => {
      responded = true
      if (!handedOff && r.codes.has(res[0])) {
        handedOff = true
        if (res.length >= 3) discard(r.env, (res as Triple)[2])
        continueFrom(i + 1, respond, r).then(resolve, reject)
        return res.length >= 3 ? undefined : sink
      }
      if (handedOff) return res.length >= 3 ? undefined : sink
      const out = respond(res)
      if (settled) resolve()
      return out
    }) as Responder
    const done = (err?: unknown) => {
      settled = true
      if (handedOff) {
        if (err !== undefined) r.env['tsgi.errors'].write(`Cascade: a skipped app failed: ${String(err)}\n`)
      } else if (err !== undefined) reject(err)
      else if (responded) resolve()
    }
    try {
      Promise.resolve(delayed(responder)).then(
        () => done(),
        (err: unknown) => done(err ?? new Error('rejected')),
      )
    } catch (err) {
      done(err ?? new Error('thrown'))
    }
  })
}

/** Frees a skipped body unread (a node Readable destroyed, a web stream cancelled, `return()` otherwise). */
function discard(env: Env, body: Body): void {
  void discardBody(body, (err) => {
    env['tsgi.errors'].write(`${NAME}: closing a skipped body failed: ${String(err)}\n`)
  })
}
