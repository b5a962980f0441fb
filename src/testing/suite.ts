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
 *
 * A server that speaks HTTP/2 runs it again with `{ client: 'http2' }`: the cases marked for
 * HTTP/1.x only (`protocols: ['http1']`) are then left out.
 */
import type { App, ErrorStream } from '../types.js'
import { errorLog, type TestFetch } from './harness.js'
import { agentFor, remoteFetch } from './http-client.js'
import { remoteHttp2Fetch } from './http2-client.js'
import { crossServerCases } from './suite-cases-cross.js'
import { failureCases } from './suite-cases-failure.js'
import { framingCases } from './suite-cases-framing.js'
import { protocolCases } from './suite-cases-protocol.js'
import { requestBodyCases } from './suite-cases-request-body.js'
import { requestEnvCases } from './suite-cases-request-env.js'
import { responseBodyCases } from './suite-cases-response-body.js'
import { responseHeadCases } from './suite-cases-response-head.js'
import type { SuiteCase, SuiteProtocol } from './suite-support.js'

export type { SuiteCase, SuiteCheckContext, SuiteProtocol } from './suite-support.js'

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
  /**
   * What the app wrote to `tsgi.errors` so far, for a server whose apps run in other processes
   * (CGI) and so cannot write to the stream `start` was given. @default that stream's text
   */
  errors?(): string
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
  /**
   * The protocol the checks speak: HTTP/1.1 (over TLS for an `https:` URL), or HTTP/2 (h2c
   * with prior knowledge for `http:`, h2 for `https:`). Cases marked for other protocols only
   * are left out. @default 'http1'
   */
  readonly client?: SuiteProtocol
}

/** A `fetch` for `url` over `protocol`, and the function that releases its connections. */
function suiteClient(url: string, protocol: SuiteProtocol): { fetch: TestFetch; close(): Promise<void> } {
  if (protocol === 'http2') return remoteHttp2Fetch(url)
  const agent = agentFor(url)
  return {
    fetch: remoteFetch(url, agent),
    close: async () => agent.destroy(),
  }
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
  const protocol = options.client ?? 'http1'
  if (protocol !== 'http1' && protocol !== 'http2') {
    throw new TypeError(
      `runServerSuite: option client must be 'http1' or 'http2', not ${JSON.stringify(protocol)}`,
    )
  }
  framework.describe(options.name ?? 'TSGI server conformance', () => {
    for (const c of serverSuiteCases) {
      if (skip.has(c.name) || (c.protocols && !c.protocols.includes(protocol))) continue
      framework.it(c.name, async () => {
        const log = errorLog()
        const server = await start(c.app, { errors: log.stream })
        const client = suiteClient(server.url, protocol)
        try {
          const errors = server.errors === undefined ? log.text : () => server.errors!()
          await c.check(client.fetch, { url: server.url, errors, protocol })
        } finally {
          await client.close()
          await server.close()
        }
      })
    }
  })
}
