/**
 * The static-file servers under load. Run as `node --import tsx bench/static-servers.ts <case>`
 * with TSGI_BENCH_ROOT naming the directory to serve; prints the port, then serves until killed.
 * Each peer is imported by its own case, so a process loads only the framework it runs.
 */
import { createReadStream, stat } from 'node:fs'
import { readFile, stat as statAsync } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { lookup } from 'mime-types'
import type { App } from 'tsgi'
import { builder, enable } from 'tsgi/builder'
import { serve } from 'tsgi/server/node'
import { H3_SERVE, h3Port, listen, startNamedCase } from './case.js'

const root = process.env.TSGI_BENCH_ROOT
if (!root) throw new Error('TSGI_BENCH_ROOT is not set')

const notFound: App = () => [404, ['Content-Type', 'text/plain', 'Content-Length', '9'], ['Not Found']]

const cases: Record<string, () => Promise<number>> = {
  /** Hand-written node:http: `fs.stat`, then the file piped with Content-Length and Content-Type; no other checks. */
  async raw() {
    return listen(
      createServer((req, res) => {
        const path = join(root, req.url ?? '/')
        stat(path, (err, stats) => {
          if (err || !stats.isFile()) {
            res.writeHead(404, ['Content-Type', 'text/plain', 'Content-Length', '9'])
            res.end('Not Found')
            return
          }
          res.writeHead(200, [
            'Content-Type',
            'application/octet-stream',
            'Content-Length',
            String(stats.size),
          ])
          createReadStream(path).pipe(res)
        })
      }),
    )
  },
  async express() {
    const { default: express } = await import('express')
    const app = express()
    app.use(express.static(root))
    return listen(createServer(app))
  },
  async tsgi() {
    const app = builder(enable('Static', { path: '/', root }), notFound)
    return (await serve(app, { port: 0, host: '127.0.0.1' })).port
  },
  /** h3's `serveStatic` wired to node:fs as h3's docs show, with the MIME type from mime-types (as tsgi's Static). */
  async h3() {
    const { H3, serve: serveH3, serveStatic } = await import('h3')
    const app = new H3()
    app.use((event) =>
      serveStatic(event, {
        getContents: (id) => readFile(join(root, id)),
        getMeta: async (id) => {
          const stats = await statAsync(join(root, id)).catch(() => undefined)
          return stats?.isFile() ? { size: stats.size, mtime: stats.mtimeMs } : undefined
        },
        getType: (ext) => lookup(ext) || undefined,
      }),
    )
    return h3Port(serveH3(app, H3_SERVE))
  },
}

await startNamedCase(cases)
