/**
 * Server — runs the app behind the real node server on 127.0.0.1, port 0, for the length of
 * one test. The server module is imported only when this implementation runs, so in-process
 * tests load no server code. The server is closed when the test's callback ends, even when it
 * throws.
 */
import http from 'node:http'
import type { App } from '../types.js'
import {
  checkImplOptions,
  errorLog,
  type TestCallback,
  type TestFetch,
  type TestImpl,
  type TestImplOptions,
} from './harness.js'
import { httpFetch } from './http-client.js'
import { testRequest } from './test-request.js'

/** A `fetch` aimed at the server at `base`, through `agent`. */
export function remoteFetch(base: string, agent: http.Agent): TestFetch {
  const origin = new URL(base)
  return async (input, init) => httpFetch(await testRequest(input, init, base), origin, agent)
}

/** The real-server implementation. */
export class Server implements TestImpl {
  readonly #options: TestImplOptions

  constructor(options: TestImplOptions = {}) {
    checkImplOptions('Server', options)
    this.#options = { ...options }
  }

  async run(app: App, cb: TestCallback): Promise<void> {
    const log = errorLog(this.#options.errors)
    const { serve } = await import('../server/node.js')
    const server = await serve(app, { port: 0, host: '127.0.0.1', errors: log.stream })
    const agent = new http.Agent({ keepAlive: true })
    try {
      await cb(remoteFetch(server.url, agent), { url: server.url, errors: log.text })
    } finally {
      agent.destroy()
      await server.close()
    }
  }
}
