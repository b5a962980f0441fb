/**
 * The servers under load in the benchmark. Run as `node --import tsx bench/servers.ts <case>`;
 * prints the port it listens on as one line, then serves until killed.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { App, Middleware } from 'tsgi'
import { builder, enable } from 'tsgi/builder'
import { serve } from 'tsgi/server/node'
import { startNamedCase } from './case.js'

const hello = 'Hello, World!'

const arrayApp: App = () => [200, ['Content-Type', 'text/plain'], [hello]]
const iterableApp: App = () => [
  200,
  ['Content-Type', 'text/plain'],
  (async function* body() {
    yield hello
  })(),
]
const passThrough: Middleware = (app) => (env) => app(env)

const cases: Record<string, () => Promise<number>> = {
  async raw() {
    const server = createServer((_req, res) => {
      res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Length', String(hello.length)])
      res.end(hello)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return (server.address() as AddressInfo).port
  },
  async array() {
    return (await serve(arrayApp, { port: 0, host: '127.0.0.1' })).port
  },
  async iterable() {
    return (await serve(iterableApp, { port: 0, host: '127.0.0.1' })).port
  },
  async middleware3() {
    const app = builder(enable(passThrough), enable(passThrough), enable(passThrough), arrayApp)
    return (await serve(app, { port: 0, host: '127.0.0.1' })).port
  },
}

await startNamedCase(cases)
