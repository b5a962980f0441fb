/**
 * MockHTTP — runs the app in process through the fetch adapter: no sockets, no server code
 * loaded. Paths resolve against `http://localhost`; `REMOTE_ADDR` is `127.0.0.1`. When the
 * test's callback ends, the cleanup handlers of finished responses have run, and then the
 * app's lifespan shutdown (its startup ran before the callback).
 */
import { toFetchHandler } from '../server/fetch.js'
import type { App } from '../types.js'
import {
  BuiltinImpl,
  type ErrorLog,
  type TestCallback,
  type TestFetch,
  type TestImplOptions,
} from './harness.js'
import { testRequest } from './test-request.js'

const BASE = 'http://localhost'

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** The in-process implementation. */
export class MockHTTP extends BuiltinImpl {
  constructor(options: TestImplOptions = {}) {
    super('MockHTTP', options)
  }

  protected async runLogged(app: App, cb: TestCallback, log: ErrorLog): Promise<void> {
    const handler = toFetchHandler(app, { errors: log.stream })
    const pending: Promise<unknown>[] = []
    const fetch: TestFetch = async (input, init) => {
      const request = await testRequest(input, init, BASE)
      const info = {
        remoteAddress: '127.0.0.1',
        signal: request.signal,
        waitUntil: (p: Promise<unknown>) => pending.push(p),
      }
      return abortable(handler(request, info), request.signal)
    }
    await handler.startup() // the app's lifespan: a failure rejects the test, as serve() would
    try {
      await cb(fetch, { url: BASE, errors: log.text })
    } finally {
      while (pending.length > 0) await Promise.allSettled(pending.splice(0))
      await handler.shutdown() // the app's lifespan, as a real server's close() runs it
    }
  }
}
