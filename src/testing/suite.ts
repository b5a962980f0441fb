/**
 * The server conformance suite: every TSGI server runs it (Plack::Test::Suite's cases plus
 * TSGI's own). It depends on no test framework: give it your `describe` and `it`, and a
 * function that serves an app on a real port and says where.
 *
 * @example
 * import { describe, it } from 'vitest'
 * runServerSuite({ describe, it }, async (app, { errors }) => {
 *   const s = await myServe(app, { port: 0, host: '127.0.0.1', errors })
 *   return { url: s.url, close: () => s.close() }
 * })
 */
import http from 'node:http'
import type { App, ErrorStream } from '../types.js'
import { errorLog } from './harness.js'
import { remoteFetch } from './http-client.js'
import { crossServerCases } from './suite-cases-cross.js'
import { failureCases } from './suite-cases-failure.js'
import { framingCases } from './suite-cases-framing.js'
import { protocolCases } from './suite-cases-protocol.js'
import { requestBodyCases } from './suite-cases-request-body.js'
import { requestEnvCases } from './suite-cases-request-env.js'
import { responseBodyCases } from './suite-cases-response-body.js'
import { responseHeadCases } from './suite-cases-response-head.js'
import type { SuiteCase } from './suite-support.js'

export type { SuiteCase } from './suite-support.js'

/** Every case. Each `app` is self-contained; `check` uses node:assert. */
export const serverSuiteCases: readonly SuiteCase[] = [
  ...requestEnvCases,
  ...requestBodyCases,
  ...responseHeadCases,
  ...responseBodyCases,
  ...failureCases,
  ...framingCases,
  ...protocolCases,
  ...crossServerCases,
]

/** The server under test, as `start` returns it. */
export interface SuiteServer {
  readonly url: string
  close(): Promise<void>
}

/** What `start` gets beside the app: the stream to use as `tsgi.errors` (checks read it). */
export interface SuiteStartContext {
  readonly errors: ErrorStream
}

/** The test framework's functions, vitest/jest/mocha/node:test style. */
export interface SuiteFramework {
  describe(name: string, body: () => void): unknown
  it(name: string, body: () => Promise<void>): unknown
}

/** Options of {@link runServerSuite}. */
export interface ServerSuiteOptions {
  /** Names of cases the server cannot pass (say why in your test); unknown names are an error. */
  readonly skip?: readonly string[]
  /** The name of the `describe` block. @default 'TSGI server conformance' */
  readonly name?: string
}

/** Registers one test per case; each starts a server with `start`, runs the check, closes it. */
export function runServerSuite(
  framework: SuiteFramework,
  start: (app: App, ctx: SuiteStartContext) => Promise<SuiteServer>,
  options: ServerSuiteOptions = {},
): void {
  const skip = new Set(options.skip ?? [])
  for (const name of skip) {
    if (!serverSuiteCases.some((c) => c.name === name)) {
      throw new TypeError(`runServerSuite: option skip names no case: ${JSON.stringify(name)}`)
    }
  }
  framework.describe(options.name ?? 'TSGI server conformance', () => {
    for (const c of serverSuiteCases) {
      if (skip.has(c.name)) continue
      framework.it(c.name, async () => {
        const log = errorLog()
        const server = await start(c.app, { errors: log.stream })
        const agent = new http.Agent({ keepAlive: true })
        try {
          await c.check(remoteFetch(server.url, agent), { url: server.url, errors: log.text })
        } finally {
          agent.destroy()
          await server.close()
        }
      })
    }
  })
}
