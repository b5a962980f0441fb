/**
 * testApp — runs a test body against an app, in process (`MockHTTP`, the default) or behind
 * the real node server (`Server`), chosen by `options.impl` or the `TSGI_TEST_IMPL`
 * environment variable.
 *
 * @example
 * await testApp(app, async (fetch, { errors }) => {
 *   const res = await fetch('/hello?name=x')
 *   assert.equal(await res.text(), 'Hello, x')
 *   assert.equal(errors(), '')
 * })
 */
import type { App } from '../types.js'
import type { TestCallback, TestImpl, TestImplOptions } from './harness.js'
import { MockHTTP } from './mock-http.js'
import { Server } from './server.js'

/** The names of the built-in implementations. */
export type TestImplName = 'MockHTTP' | 'Server'

/** Options of {@link testApp}. */
export interface TestAppOptions extends TestImplOptions {
  /** Which implementation runs the test. @default process.env.TSGI_TEST_IMPL, else 'MockHTTP' */
  readonly impl?: TestImplName | TestImpl
}

/** The implementation `options` ask for; a TypeError for an unknown name. */
export function testImpl(options: TestAppOptions = {}): TestImpl {
  const impl = options.impl ?? (globalThis.process?.env.TSGI_TEST_IMPL || 'MockHTTP')
  if (typeof impl === 'object' && impl !== null && typeof impl.run === 'function') return impl
  const rest: TestImplOptions = options.errors === undefined ? {} : { errors: options.errors }
  if (impl === 'MockHTTP') return new MockHTTP(rest)
  if (impl === 'Server') return new Server(rest)
  const source = options.impl === undefined ? 'TSGI_TEST_IMPL' : 'option impl'
  throw new TypeError(`testApp: unknown ${source} ${JSON.stringify(impl)}: expected 'MockHTTP' or 'Server'`)
}

/** Runs `cb` with a `fetch` aimed at `app`; resolves when the test and the app's cleanup are done. */
export function testApp(app: App, cb: TestCallback, options: TestAppOptions = {}): Promise<void> {
  if (typeof app !== 'function') throw new TypeError('testApp: app must be a function')
  if (typeof cb !== 'function') throw new TypeError('testApp: the test callback must be a function')
  return testImpl(options).run(app, cb)
}
