/**
 * Server — runs the app behind the real node server on 127.0.0.1, port 0, for the length of
 * one test. The server module is imported only when this implementation runs, so in-process
 * tests load no server code. The server is closed when the test's callback ends, even when it
 * throws.
 */
import http from 'node:http'
import type { App } from '../types.js'
import { BuiltinImpl, type ErrorLog, type TestCallback, type TestImplOptions } from './harness.js'
import { remoteFetch } from './http-client.js'

/** The real-server implementation. */
export class Server extends BuiltinImpl {
  constructor(options: TestImplOptions = {}) {
    super('Server', options)
  }

  protected async runLogged(app: App, cb: TestCallback, log: ErrorLog): Promise<void> {
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
