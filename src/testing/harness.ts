/**
 * The shapes shared by the test harness: the `fetch` a test gets, the context beside it, and
 * the interface every implementation (in-process or real server) provides.
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

/** Checks the options shared by the implementations; `component` names the caller in errors. */
export function checkImplOptions(component: string, options: TestImplOptions): void {
  if (options.errors !== undefined && typeof options.errors?.write !== 'function') {
    throw new TypeError(`${component}: option errors must have a write(message) method`)
  }
}
