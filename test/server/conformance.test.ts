import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { describe, it } from 'vitest'
import { toFetchHandler } from '../../src/server/fetch.js'
import { serve } from '../../src/server/node.js'
import { runServerSuite, type SuiteServer } from '../../src/testing/suite.js'
import type { App, ErrorStream } from '../../src/types.js'

/** Serves a fetch handler on node:http, the way a fetch-API runtime would. */
async function fetchBridge(app: App, errors: ErrorStream): Promise<SuiteServer> {
  const handler = toFetchHandler(app, { errors })
  const server = http.createServer(async (req, res) => {
    const client = new AbortController()
    res.once('close', () => {
      if (!res.writableFinished) client.abort()
      // A runtime drains a request body the app left unread; node leaves a body fed into a
      // web stream alone (its reader holds it paused), which would stall the connection.
      else if (!req.complete) {
        req.removeAllListeners('data')
        req.resume()
      }
    })
    const headers = new Headers()
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      body: hasBody ? (Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>) : null,
      duplex: 'half',
      signal: client.signal,
    } as RequestInit)
    const { remoteAddress, remotePort } = req.socket
    const response = await handler(request, {
      ...(remoteAddress === undefined ? {} : { remoteAddress }),
      ...(remotePort === undefined ? {} : { remotePort }),
      signal: client.signal,
    })
    const out: string[] = []
    for (const [name, value] of response.headers) if (name !== 'set-cookie') out.push(name, value)
    for (const cookie of response.headers.getSetCookie()) out.push('set-cookie', cookie)
    res.writeHead(response.status, response.statusText, out)
    if (!response.body) return void res.end()
    const reader = response.body.getReader()
    client.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true })
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        if (!res.write(value)) await once(res, 'drain')
      }
      res.end()
    } catch {
      res.destroy()
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

runServerSuite({ describe, it }, (app, { errors }) => fetchBridge(app, errors), {
  name: 'fetch adapter (node:http bridge)',
})

runServerSuite(
  { describe, it },
  async (app, { errors }) => {
    const server = await serve(app, { port: 0, host: '127.0.0.1', errors })
    return { url: server.url, close: () => server.close() }
  },
  { name: 'node server' },
)
