/**
 * WebSocket over HTTP/2 (RFC 8441 extended CONNECT) on the HTTP/2 server, with node's own
 * HTTP/2 client and WebSocket frames written and read here; and over HTTP/1.1 on the TLS port
 * with a `ws` client.
 */
import { once } from 'node:events'
import { type ClientHttp2Stream, connect, type IncomingHttpHeaders } from 'node:http2'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { responseCb } from '../../src/response-cb.js'
import { type Http2TsgiServer, serve } from '../../src/server/http2.js'
import type { App } from '../../src/types.js'
import type { WebSocketHandler } from '../../src/websocket.js'
import { ErrorSink } from './node-helpers.js'
import { skipWithout, type TlsFixture, tlsFixture, tlsMissing } from './tls-fixture.js'

const servers: Http2TsgiServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function start(app: App, tls?: TlsFixture) {
  const errors = new ErrorSink()
  const server = await serve(app, {
    port: 0,
    host: '127.0.0.1',
    errors,
    shutdownTimeout: 500,
    ...(tls ? { tls } : {}),
  })
  servers.push(server)
  return { server, errors, port: server.port }
}

const echo: WebSocketHandler = async (socket) => {
  for await (const message of socket) await socket.send(message)
}

function wsApp(handler: WebSocketHandler, protocol?: string): App {
  return (env) => {
    const ws = env['tsgix.websocket']
    if (!ws) return [426, ['Content-Type', 'text/plain'], ['WebSocket only']]
    return ws.accept(handler, protocol === undefined ? {} : { protocol })
  }
}

/** A masked client frame (RFC 6455 §5.2) of a short payload. */
function frame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4])
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))
  const length =
    payload.length < 126
      ? Buffer.from([0x80 | payload.length])
      : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff])
  return Buffer.concat([Buffer.from([0x80 | opcode]), length, mask, masked])
}

interface Frame {
  readonly opcode: number
  readonly payload: Buffer
}

/** Reads the server's (unmasked) frames from a stream. */
function frames(stream: ClientHttp2Stream): () => Promise<Frame> {
  let buffered = Buffer.alloc(0)
  const queue: Frame[] = []
  const waiting: ((f: Frame) => void)[] = []
  stream.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    for (;;) {
      if (buffered.length < 2) return
      let length = buffered[1]! & 0x7f
      let offset = 2
      if (length === 126) {
        if (buffered.length < 4) return
        length = buffered.readUInt16BE(2)
        offset = 4
      }
      if (buffered.length < offset + length) return
      const f = { opcode: buffered[0]! & 0x0f, payload: buffered.subarray(offset, offset + length) }
      buffered = buffered.subarray(offset + length)
      const w = waiting.shift()
      if (w) w(f)
      else queue.push(f)
    }
  })
  return () => {
    const f = queue.shift()
    return f ? Promise.resolve(f) : new Promise((resolve) => waiting.push(resolve))
  }
}

/** Opens a WebSocket stream with an extended CONNECT on a fresh h2c session. */
async function openStream(port: number, headers: Record<string, string> = {}) {
  const session = connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  // :protocol may be sent only once the server's SETTINGS allowed it
  await once(session, 'remoteSettings')
  expect(session.remoteSettings.enableConnectProtocol).toBe(true)
  const stream = session.request({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'http',
    ':path': '/chat',
    ':authority': `127.0.0.1:${port}`,
    'sec-websocket-version': '13',
    ...headers,
  })
  const [response] = (await once(stream, 'response')) as [IncomingHttpHeaders]
  return { session, stream, response, next: frames(stream) }
}

describe('WebSocket over HTTP/2 (RFC 8441)', () => {
  it('accepts an extended CONNECT with a 200 and echoes messages', async () => {
    const seen: unknown[] = []
    const { port } = await start((env) => {
      seen.push([env.REQUEST_METHOD, env.PATH_INFO, env.SERVER_PROTOCOL])
      return wsApp(echo, 'chat')(env)
    })
    const { session, stream, response, next } = await openStream(port, {
      'sec-websocket-protocol': 'x, chat',
    })
    expect(response[':status']).toBe(200)
    expect(response['sec-websocket-protocol']).toBe('chat')
    // the handshake is a GET to the app, as on HTTP/1.1
    expect(seen).toEqual([['GET', '/chat', 'HTTP/2']])
    stream.write(frame(1, Buffer.from('hello h2')))
    expect(await next()).toEqual({ opcode: 1, payload: Buffer.from('hello h2') })
    stream.write(frame(2, Buffer.alloc(300, 7)))
    expect(await next()).toEqual({ opcode: 2, payload: Buffer.alloc(300, 7) })
    // a close frame with 4001 is answered with the same code, then the stream ends
    stream.write(frame(8, Buffer.from([0x0f, 0xa1])))
    const closing = await next()
    expect(closing.opcode).toBe(8)
    expect(closing.payload.readUInt16BE(0)).toBe(4001)
    stream.end()
    session.close()
  })

  it('sends the middleware fields on the 200 and refuses with any other response', async () => {
    const { port } = await start((env) => {
      if (env.HTTP_AUTHORIZATION === undefined) return [401, ['WWW-Authenticate', 'Basic'], ['who?']]
      return responseCb(wsApp(echo)(env), (res) => {
        res[1].push('X-Extra', 'yes')
      })
    })
    const refused = await openStream(port)
    expect(refused.response[':status']).toBe(401)
    refused.session.close()
    const { session, response } = await openStream(port, { authorization: 'Basic dTpw' })
    expect(response[':status']).toBe(200)
    expect(response['x-extra']).toBe('yes')
    session.close()
  })

  it('aborts the app when the stream is reset, and still answers other CONNECTs 501', async () => {
    const ended = deferred<unknown[]>()
    const { port, errors } = await start((env) => {
      const signal = env['tsgix.signal']!
      return env['tsgix.websocket']!.accept(async (socket) => {
        const info = await socket.closed
        ended.resolve([info.code, signal.reason])
      })
    })
    const { session, stream } = await openStream(port)
    stream.close(0x8) // RST_STREAM CANCEL
    expect(await ended.promise).toEqual([1006, 'client-disconnected'])

    const other = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' })
    const [res] = (await once(other, 'response')) as [IncomingHttpHeaders]
    expect(res[':status']).toBe(501)
    other.resume()
    await once(other, 'end')
    await errors.waitFor(/CONNECT over HTTP\/2 is not supported, except for WebSocket/)
    session.close()
  })
})

const skipTls = skipWithout('WebSocket over HTTP/1.1 on the HTTP/2 TLS port', tlsMissing)

describe.skipIf(skipTls)('WebSocket over HTTP/1.1 on the HTTP/2 server TLS port', () => {
  it('upgrades with a 101', async () => {
    const tls = tlsFixture()
    const { port } = await start(wsApp(echo), tls)
    const client = new WebSocket(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false })
    await once(client, 'open')
    client.send('over tls')
    const [data] = (await once(client, 'message')) as [Buffer]
    expect(data.toString()).toBe('over tls')
    client.close(1000)
    await once(client, 'close')
  })
})

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}
