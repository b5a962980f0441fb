/**
 * The HTTP/2 server (`tsgi/server/http2`) over real sockets on 127.0.0.1: the conformance
 * suite over h2c, over h2 with TLS and over HTTP/1.1 on the TLS port (ALPN fallback); the env
 * of an HTTP/2 request; the head rules HTTP/2 changes; client resets; flow control as
 * backpressure; 103 Early Hints; graceful close; and real clients (curl, h2load, Chromium).
 * TLS tests need openssl, the real-client tests their binaries: without them they skip with
 * a printed reason, or fail when TSGI_REQUIRE_INTEGRATION=1.
 */
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import http2 from 'node:http2'
import { connect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { type Http2ServeOptions, type Http2TsgiServer, serve } from '../../src/server/http2.js'
import { runServerSuite, type SuiteFramework } from '../../src/testing/suite.js'
import { text } from '../../src/testing/suite-support.js'
import type { App, Env, Triple } from '../../src/types.js'
import { DATA as DATA_FRAME, END_STREAM, GOAWAY, HEADERS, RawH2, RST_STREAM } from './h2-frames.js'
import { deferred, ErrorSink } from './node-helpers.js'
import { findBinary, present, skipWithout, tlsFixture, tlsMissing } from './tls-fixture.js'

const run = promisify(execFile)
const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM } = http2.constants

const skipTls = skipWithout('HTTP/2 over TLS', tlsMissing)

// ---------------------------------------------------------------------------------------------
// Servers and sessions, closed after each test

const servers: Http2TsgiServer[] = []
const sessions: http2.ClientHttp2Session[] = []
afterEach(async () => {
  for (const s of sessions.splice(0)) s.destroy()
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

interface Started {
  readonly server: Http2TsgiServer
  readonly url: string
  readonly port: number
  readonly errors: ErrorSink
}

/** Serves `app` on 127.0.0.1 port 0 (h2c, or h2 and HTTP/1.1 on TLS with `secure`); closed after the test. */
async function start(app: App, options: Http2ServeOptions & { secure?: boolean } = {}): Promise<Started> {
  const { secure, ...rest } = options
  const errors = new ErrorSink()
  const server = await serve(app, {
    port: 0,
    host: '127.0.0.1',
    errors,
    shutdownTimeout: 1000,
    ...(secure ? { tls: tlsFixture() } : {}),
    ...rest,
  })
  servers.push(server)
  return { server, url: server.url.replace(/\/$/, ''), port: server.port, errors }
}

/** A node:http2 client session to `url` (any certificate accepted); destroyed after the test. */
async function session(url: string): Promise<http2.ClientHttp2Session> {
  const s = http2.connect(url, { rejectUnauthorized: false })
  s.on('error', () => {})
  sessions.push(s)
  await once(s, 'connect')
  return s
}

/** What {@link exchange} saw of one stream. */
interface Exchanged {
  readonly status: number
  readonly headers: http2.IncomingHttpHeaders
  /** The final HEADERS frame carried END_STREAM: no DATA at all. */
  readonly endStreamOnHead: boolean
  readonly body: Buffer
}

/** Sends one bodyless request on `s` and reads the whole response. */
function exchange(s: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<Exchanged> {
  return new Promise((resolve, reject) => {
    const stream = s.request(headers)
    const parts: Buffer[] = []
    let head: { headers: http2.IncomingHttpHeaders; flags: number } | undefined
    stream.on('response', (h, flags) => {
      head = { headers: h, flags }
    })
    stream.on('data', (d: Buffer) => parts.push(d))
    stream.on('error', reject)
    stream.on('end', () => {
      if (!head) return reject(new Error('stream ended without a response'))
      resolve({
        status: Number(head.headers[':status']),
        headers: head.headers,
        endStreamOnHead: (head.flags & NGHTTP2_FLAG_END_STREAM) !== 0,
        body: Buffer.concat(parts),
      })
    })
  })
}

// ---------------------------------------------------------------------------------------------
// The conformance suite, over each protocol the server speaks

const suiteStart =
  (secure: boolean): Parameters<typeof runServerSuite>[1] =>
  async (app, { errors }) => {
    const server = await serve(app, {
      port: 0,
      host: '127.0.0.1',
      errors,
      shutdownTimeout: 1000,
      ...(secure ? { tls: tlsFixture() } : {}),
    })
    return { url: server.url, close: () => server.close() }
  }

const tlsFramework: SuiteFramework = { describe: skipTls ? describe.skip : describe, it }

runServerSuite({ describe, it }, suiteStart(false), { client: 'http2', name: 'http2 server (h2c)' })
runServerSuite(tlsFramework, suiteStart(true), { client: 'http2', name: 'http2 server (h2 over TLS)' })
runServerSuite(tlsFramework, suiteStart(true), {
  client: 'http1',
  name: 'http2 server (HTTP/1.1 on the TLS port, by ALPN)',
})

// ---------------------------------------------------------------------------------------------

/** The env facts an HTTP/2 request gives. */
function envFacts(env: Env): Triple {
  const keys = Object.keys(env)
  return text(
    JSON.stringify({
      protocol: env.SERVER_PROTOCOL,
      method: env.REQUEST_METHOD,
      uri: env.REQUEST_URI,
      path: env.PATH_INFO,
      query: env.QUERY_STRING,
      host: env.HTTP_HOST,
      name: env.SERVER_NAME,
      port: env.SERVER_PORT,
      scheme: env['tsgi.url_scheme'],
      cookie: env.HTTP_COOKIE,
      http: keys.filter((k) => k.startsWith('HTTP_')).sort(),
      pseudo: keys.filter((k) => k.includes(':')),
    }),
  )
}

/** Checks the env of a request with two cookie fields and an :authority of its own. */
async function checkEnv(secure: boolean): Promise<void> {
  const { server, url } = await start(envFacts, { secure })
  const raw: string[][] = []
  server.server.on('stream', (_stream: unknown, _headers: unknown, _flags: unknown, list: string[]) => {
    raw.push(list)
  })
  const s = await session(url)
  const res = await exchange(s, {
    ':method': 'GET',
    ':path': '/a/b%20c?x=1',
    ':authority': 'example.com:8443',
    cookie: ['a=1', 'b=2'],
    'x-a': 'y',
  })
  expect(res.status).toBe(200)
  expect(JSON.parse(res.body.toString())).toEqual({
    protocol: 'HTTP/2',
    method: 'GET',
    uri: '/a/b%20c?x=1',
    path: '/a/b c',
    query: 'x=1',
    host: 'example.com:8443',
    name: 'example.com',
    port: '8443',
    scheme: secure ? 'https' : 'http',
    cookie: 'a=1; b=2',
    http: ['HTTP_COOKIE', 'HTTP_HOST', 'HTTP_X_A'],
    pseudo: [],
  })
  // the two cookies did arrive as two fields, as HTTP/2 clients send them
  expect(raw[0]?.filter((name, i) => i % 2 === 0 && name === 'cookie')).toHaveLength(2)
}

describe('http2 server: the env', () => {
  const facts = 'SERVER_PROTOCOL, HTTP_HOST from :authority, url_scheme from :scheme, cookies joined'
  it(`h2c: ${facts}`, () => checkEnv(false))
  it.skipIf(skipTls)(`h2 over TLS: ${facts}`, () => checkEnv(true))

  it('SERVER_PORT is the default port of the scheme when :authority has none', async () => {
    const { url } = await start(envFacts)
    const s = await session(url)
    const res = await exchange(s, { ':path': '/', ':authority': 'example.com' })
    expect(JSON.parse(res.body.toString())).toMatchObject({ name: 'example.com', port: '80', scheme: 'http' })
  })
})

describe('http2 server: request bodies the app does not read', () => {
  it('are drained, so streams close and the session window recovers (no Content-Length sent)', async () => {
    const { url } = await start(() => text('answered unread'))
    const s = await session(url)
    const body = Buffer.alloc(256 * 1024, 0x61)
    for (let i = 0; i < 6; i++) {
      const answer = await new Promise<string>((resolve, reject) => {
        const stream = s.request({ ':method': 'POST', ':path': '/' })
        const parts: Buffer[] = []
        stream.on('data', (d: Buffer) => parts.push(d))
        stream.on('error', reject)
        stream.on('close', () => resolve(Buffer.concat(parts).toString()))
        stream.end(body)
      })
      expect(answer).toBe('answered unread')
    }
    expect((await exchange(s, { ':path': '/after' })).body.toString()).toBe('answered unread')
  })
})

describe('http2 server: the response head', () => {
  const connectionHeaders = [
    'Connection',
    'close',
    'Keep-Alive',
    'timeout=5',
    'Transfer-Encoding',
    'chunked',
    'Upgrade',
    'h2c',
    'Proxy-Connection',
    'keep-alive',
    'X-Kept',
    'yes',
  ]

  it.each(['/array', '/stream', '/writer'])(
    '%s: connection-specific fields are dropped and the session stays open',
    async (path) => {
      const { url, errors } = await start((env) => {
        const headers = ['Content-Type', 'text/plain', ...connectionHeaders]
        if (env.PATH_INFO === '/writer') {
          return async (respond) => {
            const writer = respond([200, headers])
            await writer.write('hel')
            await writer.write('lo')
            await writer.close()
          }
        }
        if (env.PATH_INFO === '/stream') {
          return [
            200,
            headers,
            (async function* () {
              yield 'hel'
              yield 'lo'
            })(),
          ]
        }
        return [200, headers, ['hello']]
      })
      const s = await session(url)
      const res = await exchange(s, { ':path': path })
      expect(res.status).toBe(200)
      for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']) {
        expect(res.headers[name], name).toBeUndefined()
      }
      expect(res.headers['x-kept']).toBe('yes')
      expect(res.body.toString()).toBe('hello')
      // `Connection: close` does not close an HTTP/2 session
      expect((await exchange(s, { ':path': path })).body.toString()).toBe('hello')
      expect(s.closed).toBe(false)
      expect(errors.text).toBe('')
    },
  )

  it('a valid tsgix.reason_phrase is ignored: no error, the status stands', async () => {
    const { url, errors } = await start((env) => {
      env['tsgix.reason_phrase'] = 'Gone Fishing'
      return text('ok', 202)
    })
    const res = await exchange(await session(url), { ':path': '/' })
    expect(res.status).toBe(202)
    expect(res.body.toString()).toBe('ok')
    expect(errors.text).toBe('')
  })

  it('an invalid tsgix.reason_phrase is still an invalid response: 500', async () => {
    const { url, errors } = await start((env) => {
      env['tsgix.reason_phrase'] = 'bad\r\nX-Evil: 1'
      return text('never sent')
    })
    const res = await exchange(await session(url), { ':path': '/' })
    expect(res.status).toBe(500)
    expect(res.headers['x-evil']).toBeUndefined()
    expect(res.body.toString()).toBe('Internal Server Error')
    expect(errors.text).toMatch(/tsgix\.reason_phrase/)
  })

  it('HEAD: the head the app gave, END_STREAM on HEADERS, no DATA', async () => {
    const { url } = await start(() => [200, ['Content-Type', 'text/plain', 'Content-Length', '5'], ['Hello']])
    const res = await exchange(await session(url), { ':method': 'HEAD', ':path': '/' })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/plain')
    expect(res.headers['content-length']).toBe('5')
    expect(res.endStreamOnHead).toBe(true)
    expect(res.body.length).toBe(0)
  })

  it.each([
    [204, [] as string[]],
    [304, ['ETag', '"v1"']],
  ])('%i: no body on the wire, whatever the app returned', async (status, headers) => {
    const { url } = await start(() => [status, headers, ['ignored']])
    const res = await exchange(await session(url), { ':path': '/' })
    expect(res.status).toBe(status)
    expect(res.endStreamOnHead).toBe(true)
    expect(res.body.length).toBe(0)
    expect(res.headers['content-length']).toBeUndefined()
    if (status === 304) expect(res.headers.etag).toBe('"v1"')
  })
})

// ---------------------------------------------------------------------------------------------

/** The signal's reason as a cleanup handler of `env` sees it (cleanup handlers always run). */
function cleanupReason(env: Env, seen: { resolve(reason: string): void }): void {
  env['tsgix.cleanup.handlers']?.push((e) => seen.resolve(String(e['tsgix.signal']?.reason)))
}

/** Resolves when `signal` aborts. */
function abortOf(signal: AbortSignal | undefined): Promise<unknown> {
  return new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }))
}

describe('http2 server: clients that leave', () => {
  it.each(['RST_STREAM', 'connection closed'])(
    'an iterable body: %s aborts tsgix.signal with client-disconnected, runs cleanup handlers and the finally block',
    async (how) => {
      const cleanup = deferred<string>()
      const finallyRan = deferred<string>()
      const { url } = await start((env) => {
        const signal = env['tsgix.signal']
        cleanupReason(env, cleanup)
        async function* body() {
          try {
            yield 'first'
            await abortOf(signal)
            yield 'never read'
          } finally {
            finallyRan.resolve(String(signal?.reason))
          }
        }
        return [200, ['Content-Type', 'text/plain'], body()]
      })
      const s = await session(url)
      const stream = s.request({ ':path': '/' })
      const [chunk] = (await once(stream, 'data')) as [Buffer]
      expect(chunk.toString()).toBe('first')
      if (how === 'RST_STREAM') stream.close(NGHTTP2_CANCEL)
      else s.destroy()
      expect(await cleanup.promise).toBe('client-disconnected')
      expect(await finallyRan.promise).toBe('client-disconnected')
    },
  )

  it('a writer waiting between writes: RST_STREAM aborts the signal and the next write rejects', async () => {
    const cleanup = deferred<string>()
    const late = deferred<string>()
    const { url } = await start((env) => async (respond) => {
      const signal = env['tsgix.signal']
      cleanupReason(env, cleanup)
      const writer = respond([200, ['Content-Type', 'text/plain']])
      await writer.write('first')
      await abortOf(signal)
      late.resolve(
        await writer.write('late').then(
          () => 'resolved',
          () => 'rejected',
        ),
      )
    })
    const s = await session(url)
    const stream = s.request({ ':path': '/' })
    await once(stream, 'data')
    stream.close(NGHTTP2_CANCEL)
    expect(await cleanup.promise).toBe('client-disconnected')
    expect(await late.promise).toBe('rejected')
  })
})

describe('http2 server: flow control is the backpressure of bodies', () => {
  it.each(['writer', 'iterable'])(
    'a %s of 8 MiB to a client that does not read stalls, and completes when it reads',
    async (kind) => {
      const total = 8 * 1024 * 1024
      const chunk = new Uint8Array(16 * 1024).fill(97)
      let sent = 0 // bytes the server took from the app
      let waiting = false // the app is held at a write() or a yield
      const started = deferred()
      const done = deferred<string>()
      async function* chunks() {
        while (sent < total) {
          waiting = true
          started.resolve()
          yield chunk
          waiting = false
          sent += chunk.length
        }
        done.resolve('closed')
      }
      const { url } = await start(() => {
        const head: [number, string[]] = [200, ['Content-Type', 'application/octet-stream']]
        if (kind === 'iterable') return [...head, chunks()]
        return async (respond) => {
          const writer = respond(head)
          try {
            for await (const c of chunks()) await writer.write(c)
            await writer.close()
          } catch (err) {
            done.resolve(`failed: ${String(err)}`)
          }
        }
      })
      const s = await session(url)
      const stream = s.request({ ':path': '/' })
      await once(stream, 'response')
      await started.promise
      // Round trips on the same connection: each PING is answered after the server has handled
      // everything before it, so a server ignoring flow control would be far ahead by now.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => s.ping(resolve))
      expect(waiting).toBe(true)
      expect(sent).toBeLessThan(2 * 1024 * 1024)
      let received = 0
      stream.on('data', (d: Buffer) => {
        received += d.length
      })
      await once(stream, 'end')
      expect(received).toBe(total)
      expect(await done.promise).toBe('closed')
      expect(sent).toBe(total)
    },
  )
})

describe('http2 server: 103 Early Hints', () => {
  it('reaches the client as a 103 HEADERS before the final head', async () => {
    const { url } = await start((env) => {
      env['tsgix.early_hints']?.(['Link', '</style.css>; rel=preload; as=style'])
      return async (respond) => {
        const writer = respond([200, ['Content-Type', 'text/plain']])
        await writer.write('body')
        await writer.close()
      }
    })
    const s = await session(url)
    const order: string[] = []
    const stream = s.request({ ':path': '/' })
    stream.on('headers', (h) => order.push(`${h[':status']} ${h.link}`))
    stream.on('response', (h) => order.push(String(h[':status'])))
    stream.resume()
    await once(stream, 'end')
    expect(order).toEqual(['103 </style.css>; rel=preload; as=style', '200'])
  })
})

describe('http2 server: close()', () => {
  it('sends GOAWAY, lets the stream in flight finish, refuses new streams and connections', async () => {
    const gate = deferred()
    const started = deferred()
    const paths: string[] = []
    const { server, port } = await start((env) => {
      paths.push(env.PATH_INFO)
      return async (respond) => {
        const writer = respond([200, ['Content-Type', 'text/plain']])
        await writer.write('first ')
        started.resolve()
        await gate.promise
        await writer.write('rest')
        await writer.close()
      }
    })
    const conn = await RawH2.open(port)
    conn.get(1, '/long')
    await started.promise
    await conn.next((f) => f.type === DATA_FRAME && f.stream === 1)
    const closing = server.close()
    const goaway = await conn.next((f) => f.type === GOAWAY)
    expect(goaway.payload.readUInt32BE(0) & 0x7fffffff).toBe(1) // last stream id
    expect(goaway.payload.readUInt32BE(4)).toBe(0) // NO_ERROR
    // A stream opened after the GOAWAY is not processed: by the PING's answer the server has
    // read it, and the app never saw it, nor did the client get a response on it.
    conn.get(3, '/new')
    await conn.ping('after-go')
    expect(paths).toEqual(['/long'])
    expect(conn.frames.some((f) => f.type === HEADERS && f.stream === 3)).toBe(false)
    // the listener is closed: a new connection is refused
    const refused = connect(port, '127.0.0.1')
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException]
    expect(err.code).toBe('ECONNREFUSED')
    gate.resolve()
    await conn.next((f) => f.type === DATA_FRAME && f.stream === 1 && (f.flags & END_STREAM) !== 0)
    expect(conn.data(1)).toBe('first rest')
    expect(conn.frames.some((f) => f.type === RST_STREAM && f.stream === 1)).toBe(false)
    await closing
    await conn.closed()
  })

  it('cuts the connection of a client that never reads its response when the grace is over', async () => {
    const { server, port } = await start(() => [200, ['Content-Type', 'text/plain'], ['unread']], {
      shutdownTimeout: 100,
    })
    const session = http2.connect(`http://127.0.0.1:${port}`)
    session.on('error', () => {})
    const stream = session.request({ ':path': '/' })
    await once(stream, 'response')
    // the client waits for its stream, which it never reads, and the server for the client
    session.close()
    // close() resolves: the connection was cut, though node's client still waits on its stream
    await server.close()
    session.destroy()
  })

  it('cuts a stream still open when shutdownTimeout is over; its signal aborts with server-shutdown', async () => {
    const reason = deferred<string>()
    const { server, port } = await start(
      (env) => {
        const signal = env['tsgix.signal']
        cleanupReason(env, reason)
        return [
          200,
          ['Content-Type', 'text/plain'],
          (async function* () {
            yield 'first'
            await abortOf(signal)
          })(),
        ]
      },
      { shutdownTimeout: 50 },
    )
    const conn = await RawH2.open(port)
    conn.get(1, '/')
    await conn.next((f) => f.type === DATA_FRAME && f.stream === 1)
    await server.close()
    expect(await reason.promise).toBe('server-shutdown')
    await conn.closed()
    // reset (RST_STREAM) or cut with the connection, never ended: the client cannot take it for complete
    const ends = conn.frames.filter(
      (f) => f.stream === 1 && (f.flags & END_STREAM) !== 0 && f.type === DATA_FRAME,
    )
    expect(ends, 'the server ended the stream (END_STREAM) instead of resetting it').toEqual([])
    expect(conn.data(1)).toBe('first')
  })
})

// ---------------------------------------------------------------------------------------------
// Real clients

const curl = findBinary('curl')
const skipCurl = skipWithout('HTTP/2 curl tests', curl ? undefined : 'curl not found (Debian package curl)')
const h2load = findBinary('h2load')
const skipH2load = skipWithout(
  'HTTP/2 h2load test',
  h2load ? undefined : 'h2load not found (Debian package nghttp2-client)',
)
const chromiumPath = findBinary('chromium')
const skipChromium = skipWithout(
  'HTTP/2 Chromium test',
  chromiumPath ? undefined : 'chromium not found (Debian package chromium)',
)

/** Answers with the protocol, scheme and request body it saw. */
const protocolEcho: App = async (env) => {
  const parts: Uint8Array[] = []
  for await (const chunk of env['tsgi.input']) parts.push(chunk)
  return text(`${env.SERVER_PROTOCOL} ${env['tsgi.url_scheme']} ${Buffer.concat(parts).toString()}`)
}

/** Runs curl with `args`; gives its stdout (the body, then a line with the HTTP version). */
async function runCurl(args: string[]): Promise<{ body: string; version: string }> {
  const { stdout } = await run(present(curl, 'curl not found'), [
    '-sS',
    '--max-time',
    '10',
    '-w',
    '\\n%{http_version}',
    ...args,
  ])
  const cut = stdout.lastIndexOf('\n')
  return { body: stdout.slice(0, cut), version: stdout.slice(cut + 1) }
}

describe('http2 server: curl', () => {
  it.skipIf(skipCurl)('curl --http2-prior-knowledge speaks h2c', async () => {
    const { url } = await start(protocolEcho)
    const res = await runCurl(['--http2-prior-knowledge', '--data-binary', 'abc', `${url}/`])
    expect(res).toEqual({ body: 'HTTP/2 http abc', version: '2' })
  })

  it.skipIf(skipCurl || skipTls)('curl --http2 -k speaks h2 over TLS', async () => {
    const { url } = await start(protocolEcho, { secure: true })
    const res = await runCurl(['--http2', '-k', '--data-binary', 'abc', `${url}/`])
    expect(res).toEqual({ body: 'HTTP/2 https abc', version: '2' })
  })

  it.skipIf(skipCurl || skipTls)('curl --http1.1 -k gets HTTP/1.1 on the TLS port', async () => {
    const { url } = await start(protocolEcho, { secure: true })
    const res = await runCurl(['--http1.1', '-k', '--data-binary', 'abc', `${url}/`])
    expect(res).toEqual({ body: 'HTTP/1.1 https abc', version: '1.1' })
  })
})

describe('http2 server: HTTP/1.1 on the TLS port', () => {
  it.skipIf(skipTls)(
    'refuses an HTTP/1.0 request with Transfer-Encoding (400, closed, app not called)',
    async () => {
      let calls = 0
      const { port } = await start(
        () => {
          calls++
          return text('reached')
        },
        { secure: true },
      )
      const socket = tlsConnect({
        port,
        host: '127.0.0.1',
        ALPNProtocols: ['http/1.1'],
        rejectUnauthorized: false,
      })
      await once(socket, 'secureConnect')
      const parts: Buffer[] = []
      socket.on('data', (d: Buffer) => parts.push(d))
      const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n'
      socket.write(
        `POST / HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n${smuggled}`,
      )
      await once(socket, 'close')
      const answer = Buffer.concat(parts).toString('latin1')
      expect(answer).toMatch(/^HTTP\/1\.1 400 /)
      expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1)
      expect(calls).toBe(0)
    },
  )
})

describe('http2 server: h2load', () => {
  it.skipIf(skipH2load)('2000 requests on 10 connections, 10 streams each: all succeed', async () => {
    const { url } = await start(() => text('hello'))
    const { stdout } = await run(present(h2load, 'h2load not found'), [
      '-n',
      '2000',
      '-c',
      '10',
      '-m',
      '10',
      `${url}/`,
    ])
    expect(stdout).toMatch(
      /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout/,
    )
    expect(stdout).toMatch(/status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx/)
  })
})

describe('http2 server: Chromium', () => {
  it.skipIf(skipChromium || skipTls)(
    'loads a page over h2 and reads a streamed response whole',
    async () => {
      const seen: string[] = []
      const { url } = await start(
        (env) => {
          seen.push(`${env.PATH_INFO} ${env.SERVER_PROTOCOL}`)
          if (env.PATH_INFO === '/stream') {
            return async (respond) => {
              const writer = respond([200, ['Content-Type', 'text/plain']])
              for (const part of ['one ', 'two ', 'three']) await writer.write(part)
              await writer.close()
            }
          }
          if (env.PATH_INFO === '/')
            return [200, ['Content-Type', 'text/html'], ['<!doctype html><title>tsgi</title><p>h2</p>']]
          return text('Not Found', 404)
        },
        { secure: true },
      )
      const { chromium } = await import('playwright-core')
      const browser = await chromium.launch({
        executablePath: present(chromiumPath, 'chromium not found'),
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--ignore-certificate-errors',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      })
      try {
        const page = await browser.newPage()
        const response = await page.goto(`${url}/`)
        expect(response?.status()).toBe(200)
        expect(await page.textContent('p')).toBe('h2')
        const result = await page.evaluate(async () => {
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming
          const res = await fetch('/stream')
          const reader = res.body!.getReader()
          const decoder = new TextDecoder()
          let body = ''
          for (;;) {
            const { done, value } = await reader.read()
            if (done) break
            body += decoder.decode(value, { stream: true })
          }
          return { protocol: nav.nextHopProtocol, status: res.status, body }
        })
        expect(result).toEqual({ protocol: 'h2', status: 200, body: 'one two three' })
        expect(seen).toContain('/stream HTTP/2')
      } finally {
        await browser.close()
      }
    },
    30_000,
  )
})
