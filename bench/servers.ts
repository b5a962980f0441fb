/**
 * The HTTP/1.1 hello-world servers under load: raw node:http, tsgi's `serve()` (array body,
 * three pass-through middleware, a four-chunk async-iterable body and raw node:http writing the
 * same four chunks), and the peers (Fastify, h3, Hono, Express), each answering
 * `Hello, World!` as `text/plain` with a Content-Length. Run as
 * `node --import tsx bench/servers.ts <case>`; prints the port it listens on as one line, then
 * serves until killed. Each peer is imported by its own case, so a process loads only the
 * framework it runs.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { App, Middleware } from 'tsgi'
import { builder, enable } from 'tsgi/builder'
import { serve } from 'tsgi/server/node'
import { H3_SERVE, h3Port, listen, startNamedCase } from './case.js'

const hello = 'Hello, World!'
/** The body of the streaming cases, in four chunks. */
const CHUNKS = ['Hello', ', ', 'World', '!'] as const

const arrayApp: App = () => [200, ['Content-Type', 'text/plain'], [hello]]
/** The four chunks from a generator function made once, as an app module defines its streams. */
async function* fourChunks(): AsyncGenerator<string> {
  yield* CHUNKS
}
const chunksApp: App = () => [200, ['Content-Type', 'text/plain'], fourChunks()]
/**
 * The same from a generator function written inside the app, so made per request: each one
 * brings a new prototype object, which V8 sets up on first use (about a microsecond, whatever
 * the framework that iterates it).
 */
const inlineChunksApp: App = () => [
  200,
  ['Content-Type', 'text/plain'],
  (async function* body() {
    yield* CHUNKS
  })(),
]
const passThrough: Middleware = (app) => (env) => app(env)
const local = { port: 0, host: '127.0.0.1' } as const

const cases: Record<string, () => Promise<number>> = {
  async raw() {
    return listen(
      createServer((_req, res) => {
        res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Length', String(hello.length)])
        res.end(hello)
      }),
    )
  },
  async array() {
    return (await serve(arrayApp, local)).port
  },
  async middleware3() {
    const app = builder(enable(passThrough), enable(passThrough), enable(passThrough), arrayApp)
    return (await serve(app, local)).port
  },
  /** The four chunks with res.write x3 + res.end (chunked, as tsgi frames an iterable of unknown length). */
  async 'raw-chunks'() {
    return listen(
      createServer((_req, res) => {
        res.writeHead(200, ['Content-Type', 'text/plain'])
        res.write(CHUNKS[0])
        res.write(CHUNKS[1])
        res.write(CHUNKS[2])
        res.end(CHUNKS[3])
      }),
    )
  },
  async iterable() {
    return (await serve(chunksApp, local)).port
  },
  async 'iterable-inline'() {
    return (await serve(inlineChunksApp, local)).port
  },
  async fastify() {
    const { default: Fastify } = await import('fastify')
    const app = Fastify()
    app.get('/', (_req, reply) => {
      reply.header('content-type', 'text/plain').send(hello)
    })
    await app.listen(local)
    return (app.server.address() as AddressInfo).port
  },
  /** h3 2's own `serve` (srvx's node adapter, its fast response path); a string with the type set. */
  async h3() {
    const { H3, serve: serveH3 } = await import('h3')
    const app = new H3().get('/', (event) => {
      event.res.headers.set('content-type', 'text/plain')
      return hello
    })
    return h3Port(serveH3(app, H3_SERVE))
  },
  async hono() {
    const { Hono } = await import('hono')
    const { serve: serveHono } = await import('@hono/node-server')
    const app = new Hono().get('/', (c) => c.body(hello, 200, { 'Content-Type': 'text/plain' }))
    const server = serveHono({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
    await once(server, 'listening')
    return (server.address() as AddressInfo).port
  },
  /**
   * Express with its per-response extras off (X-Powered-By, ETag), the type set with node's
   * `setHeader` and the body as bytes, so the type stays the plain `text/plain` (`res.set` and
   * `send` of a string both append a charset).
   */
  async express() {
    const { default: express } = await import('express')
    const app = express().disable('x-powered-by').set('etag', false)
    const body = Buffer.from(hello)
    app.get('/', (_req, res) => {
      res.setHeader('Content-Type', 'text/plain')
      res.send(body)
    })
    return listen(createServer(app))
  },
}

await startNamedCase(cases)
