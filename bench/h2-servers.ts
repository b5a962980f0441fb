/**
 * The HTTP/2 servers (cleartext, prior knowledge): `Hello, World!` from raw node:http2
 * (`stream.respond` + `stream.end`) and from tsgi's HTTP/2 server; and a 1 GiB file
 * (TSGI_BENCH_ROOT + /file-1g.bin) from both, for the slow-client memory case. Run as
 * `node --import tsx bench/h2-servers.ts <case>`; prints the port, then serves until killed.
 *
 * tsgi's HTTP/2 server (`tsgi/server/http2`) is loaded only by its cases, by a specifier the
 * type checker does not follow, so the other cases run (and this file checks) while it is not
 * built; a tsgi case then exits with status 3 and a message saying so.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:http2'
import { join } from 'node:path'
import { type App, fileBody } from 'tsgi'
import { listen, startNamedCase } from './case.js'
import { BIG_FILE } from './static-files.js'

const hello = 'Hello, World!'

/** What this bench uses of `tsgi/server/http2`: a `serve` shaped as `tsgi/server/node`'s. */
interface Http2Serve {
  serve(
    app: App,
    options: { readonly port: number; readonly host: string },
  ): Promise<{ readonly port: number }>
}

const HTTP2_MODULE: string = 'tsgi/server/http2'

async function serveHttp2(app: App): Promise<number> {
  let mod: Http2Serve
  try {
    mod = (await import(HTTP2_MODULE)) as Http2Serve
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw err
    const message = err instanceof Error ? err.message : String(err)
    process.stderr.write(
      `${HTTP2_MODULE} is not available (src/server/http2.ts not written or not built?): ${message}\n`,
    )
    process.exit(3)
  }
  return (await mod.serve(app, { port: 0, host: '127.0.0.1' })).port
}

function bigFile(): string {
  const root = process.env.TSGI_BENCH_ROOT
  if (!root) throw new Error('TSGI_BENCH_ROOT is not set')
  return join(root, BIG_FILE)
}

const cases: Record<string, () => Promise<number>> = {
  async raw() {
    const server = createServer()
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': hello.length })
      stream.end(hello)
    })
    return listen(server)
  },
  async tsgi() {
    return serveHttp2(() => [200, ['Content-Type', 'text/plain'], [hello]])
  },
  /** The 1 GiB file piped into the stream (backpressure from the stream's flow control). */
  async 'raw-file'() {
    const path = bigFile()
    const { size } = await stat(path)
    const server = createServer()
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': size })
      createReadStream(path).pipe(stream)
    })
    return listen(server)
  },
  async 'tsgi-file'() {
    const path = bigFile()
    return serveHttp2(() => [200, ['Content-Type', 'application/octet-stream'], fileBody(path)])
  },
}

await startNamedCase(cases)
