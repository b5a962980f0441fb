/**
 * The harness's HTTP/2 client against a plain node:http2 server (no TSGI server involved):
 * what goes on the wire, streamed bodies both ways, resets, and bodies cut by the server.
 */
import { once } from 'node:events'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { type Http2Fetch, remoteHttp2Fetch } from '../../src/testing/http2-client.js'

type Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, raw: string[]) => void

const open: { server: http2.Http2Server; client: Http2Fetch; sessions: Set<http2.ServerHttp2Session> }[] = []
afterEach(async () => {
  for (const { server, client, sessions } of open.splice(0)) {
    await client.close()
    for (const s of sessions) s.destroy()
    server.close()
  }
})

/** An h2c server running `handler` for every stream, and the client aimed at it. */
async function serve(handler: Handler): Promise<{ client: Http2Fetch; server: http2.Http2Server }> {
  const server = http2.createServer()
  const sessions = new Set<http2.ServerHttp2Session>()
  server.on('session', (s) => {
    sessions.add(s)
    s.on('error', () => {})
    s.once('close', () => sessions.delete(s))
  })
  server.on(
    'stream',
    (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => {
      stream.on('error', () => {})
      handler(stream, headers, raw)
    },
  )
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const client = remoteHttp2Fetch(`http://127.0.0.1:${port}`)
  open.push({ server, client, sessions })
  return { client, server }
}

/** A promise and its resolve function. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

describe('remoteHttp2Fetch', () => {
  it('sends Host as :authority, drops connection-specific fields, keeps the rest', async () => {
    const seen = deferred<string[]>()
    const { client } = await serve((stream, _headers, raw) => {
      seen.resolve(raw)
      stream.respond({ ':status': 200, 'x-a': ['1', '2'], 'set-cookie': ['a=1', 'b=2'] })
      stream.end('ok')
    })
    const res = await client.fetch('http://example.com:8080/p?q=1', {
      headers: { 'X-Foo': 'bar', Connection: 'keep-alive', 'Keep-Alive': 'timeout=5', TE: 'gzip' },
    })
    expect(res.status).toBe(200)
    expect(res.statusText).toBe('')
    expect(res.headers.get('x-a')).toBe('1, 2')
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(await res.text()).toBe('ok')
    const raw = await seen.promise
    const fields = Object.fromEntries(raw.flatMap((v, i) => (i % 2 === 0 ? [[v, raw[i + 1]]] : [])))
    expect(fields).toMatchObject({
      ':method': 'GET',
      ':scheme': 'http',
      ':authority': 'example.com:8080',
      ':path': '/p?q=1',
      'x-foo': 'bar',
    })
    for (const name of ['host', 'connection', 'keep-alive', 'te', 'transfer-encoding']) {
      expect(fields[name], name).toBeUndefined()
    }
  })

  it('streams a request body and gives the response body as sent, not decompressed', async () => {
    const gz = gzipSync('hello')
    const { client } = await serve(async (stream, headers) => {
      const parts: Buffer[] = []
      for await (const chunk of stream) parts.push(chunk as Buffer)
      stream.respond({
        ':status': 200,
        'content-encoding': 'gzip',
        'x-got': `${headers['transfer-encoding']}`,
      })
      stream.write(Buffer.concat(parts))
      stream.end(gz)
    })
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('ab'))
        controller.enqueue(new TextEncoder().encode('c'))
        controller.close()
      },
    })
    const res = await client.fetch('/', { method: 'POST', body })
    expect(res.headers.get('x-got')).toBe('undefined')
    const bytes = Buffer.from(await res.arrayBuffer())
    expect(bytes.subarray(0, 3).toString()).toBe('abc')
    expect(bytes.subarray(3)).toEqual(gz)
  })

  it('has no body for HEAD, 204 and 304', async () => {
    const { client } = await serve((stream, headers) => {
      const status = Number(String(headers[':path']).slice(1)) || 200
      stream.respond(
        { ':status': status, 'content-length': status === 200 ? '5' : undefined },
        { endStream: true },
      )
    })
    const head = await client.fetch('/', { method: 'HEAD' })
    expect(head.headers.get('content-length')).toBe('5')
    expect(head.body).toBeNull()
    for (const status of [204, 304]) expect((await client.fetch(`/${status}`)).body).toBeNull()
  })

  it('an aborted signal resets the stream (CANCEL)', async () => {
    const closed = deferred<number>()
    const { client } = await serve((stream) => {
      stream.once('close', () => closed.resolve(stream.rstCode))
      stream.respond({ ':status': 200 })
      stream.write('first')
    })
    const controller = new AbortController()
    const res = await client.fetch('/', { signal: controller.signal })
    const reader = res.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first')
    controller.abort()
    expect(await closed.promise).toBe(http2.constants.NGHTTP2_CANCEL)
    await expect(reader.read()).rejects.toThrow()
  })

  it('cancelling the body resets the stream', async () => {
    const closed = deferred<number>()
    const { client } = await serve((stream) => {
      stream.once('close', () => closed.resolve(stream.rstCode))
      stream.respond({ ':status': 200 })
      stream.write('first')
    })
    const res = await client.fetch('/')
    await res.body!.cancel()
    expect(await closed.promise).toBe(http2.constants.NGHTTP2_CANCEL)
  })

  it.each([
    // node's stream.close(code) ends the stream (END_STREAM) before resetting it; destroy() does not
    ['RST_STREAM', 'reset'],
    ['a GOAWAY and a closed connection', 'goaway'],
  ])('a body cut by %s fails to read', async (_name, how) => {
    const { client } = await serve((stream) => {
      stream.respond({ ':status': 200 })
      stream.write('first', () => {
        if (how === 'reset') stream.destroy(new Error('cut'))
        else stream.session?.destroy(undefined, http2.constants.NGHTTP2_INTERNAL_ERROR)
      })
    })
    const res = await client.fetch('/')
    await expect(res.text()).rejects.toThrow()
  })

  it('a GOAWAY with NO_ERROR lets the stream in flight finish; the next request opens a new session', async () => {
    const sessions = new Set<http2.Http2Session>()
    const { client } = await serve((stream) => {
      if (stream.session) sessions.add(stream.session)
      stream.respond({ ':status': 200 })
      stream.write('first ')
      stream.session?.close()
      stream.end('last')
    })
    expect(await (await client.fetch('/')).text()).toBe('first last')
    expect(await (await client.fetch('/')).text()).toBe('first last')
    expect(sessions.size).toBe(2)
  })

  it('fails when the server resets the stream before the head', async () => {
    const { client } = await serve((stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM))
    await expect(client.fetch('/')).rejects.toThrow(/before the response head/)
  })

  it('an abort during the request body resets the stream without ending the body', async () => {
    const seen = deferred<string>()
    const { client } = await serve((stream) => {
      stream.on('data', () => controller.abort())
      stream.once('end', () => seen.resolve('request body ended'))
      stream.once('close', () => seen.resolve(`reset with code ${stream.rstCode}`))
    })
    const controller = new AbortController()
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('part'))
      },
    })
    await expect(client.fetch('/', { method: 'POST', body, signal: controller.signal })).rejects.toThrow()
    expect(await seen.promise).toMatch(/^reset with code [1-9]/)
  })
})
