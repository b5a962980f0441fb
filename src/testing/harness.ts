/**
 * The shapes shared by the test harness: the `fetch` a test gets, the context beside it, the
 * interface every implementation (in-process or real server) provides, and the base of the
 * built-in implementations.
 */
import type { App, ErrorStream } from '../types.js'

/**
 * The web `fetch` signature, aimed at the app under test. A path (`'/foo?x=1'`) is resolved
 * against the app's base URL; an absolute URL keeps its path and sends its host as `Host`, so
 * host-based mounts can be tested. Redirects are returned as they are, never followed.
 */
export type TestFetch = (
  input: string | URL | globalThis.Request,
  init?: RequestInit,
) => Promise<globalThis.Response>

/** What a test gets beside `fetch`. */
export interface TestContext {
  /** The base URL paths are resolved against (`http://localhost` in process, the server's URL otherwise). */
  readonly url: string
  /** Everything written to `tsgi.errors` so far. */
  errors(): string
}

/** The body of a test. */
export type TestCallback = (fetch: TestFetch, ctx: TestContext) => void | Promise<void>

/** A way to run an app for a test: in process, or behind a real server. */
export interface TestImpl {
  run(app: App, cb: TestCallback): Promise<void>
}

/** Options of the built-in implementations. */
export interface TestImplOptions {
  /** Also write `tsgi.errors` output here (it is always collected for {@link TestContext.errors}). */
  readonly errors?: ErrorStream
}

/** Collects error output, optionally passing it on. */
export interface ErrorLog {
  readonly stream: ErrorStream
  text(): string
}

/** An error stream that keeps what is written and forwards it to `forward` when given. */
export function errorLog(forward?: ErrorStream): ErrorLog {
  const parts: string[] = []
  return {
    stream: {
      write(message: string) {
        parts.push(String(message))
        forward?.write(message)
        return true
      },
    },
    text: () => parts.join(''),
  }
}

/**
 * The base of the built-in implementations: checks and keeps their options, and gives each run
 * a fresh {@link ErrorLog} forwarding to `options.errors`.
 */
export abstract class BuiltinImpl implements TestImpl {
  readonly #options: TestImplOptions

  /** `component` names the implementation in option errors. */
  constructor(component: string, options: TestImplOptions) {
    if (options.errors !== undefined && typeof options.errors?.write !== 'function') {
      throw new TypeError(`${component}: option errors must have a write(message) method`)
    }
    this.#options = { ...options }
  }

  run(app: App, cb: TestCallback): Promise<void> {
    return this.runLogged(app, cb, errorLog(this.#options.errors))
  }

  /** Runs `cb` against `app` with `log` as the app's `tsgi.errors`. */
  protected abstract runLogged(app: App, cb: TestCallback, log: ErrorLog): Promise<void>
}
