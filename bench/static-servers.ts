/**
 * The static-file servers under load. Run as `node --import tsx bench/static-servers.ts <case>`
 * with TSGI_BENCH_ROOT naming the directory to serve; prints the port, then serves until killed.
 */
import { createReadStream, statSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import express from 'express'
import type { App } from 'tsgi'
import { builder, enable } from 'tsgi/builder'
import { serve } from 'tsgi/server/node'
import { startNamedCase } from './case.js'

const root = process.env.TSGI_BENCH_ROOT
if (!root) throw new Error('TSGI_BENCH_ROOT is not set')

const notFound: App = () => [404, ['Content-Type', 'text/plain', 'Content-Length', '9'], ['Not Found']]

async function listen(server: ReturnType<typeof createServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

const cases: Record<string, () => Promise<number>> = {
  /** node:http piping the file, no checks at all: the floor. */
  async raw() {
    return listen(
      createServer((req, res) => {
        const path = join(root, req.url ?? '/')
        const size = statSync(path).size
        res.writeHead(200, ['Content-Type', 'application/octet-stream', 'Content-Length', String(size)])
        createReadStream(path).pipe(res)
      }),
    )
  },
  async express() {
    const app = express()
    app.use(express.static(root))
    return listen(createServer(app))
  },
  async tsgi() {
    const app = builder(enable('Static', { path: '/', root }), notFound)
    return (await serve(app, { port: 0, host: '127.0.0.1' })).port
  },
}

await startNamedCase(cases)
