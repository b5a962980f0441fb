/**
 * `tsgi/server/fastcgi` behind a real nginx (Debian's) on loopback, with the configurations
 * docs/servers.md shows (test/fixtures/fastcgi-configs.ts): `fastcgi_pass` over a unix socket
 * and over TCP, with `fastcgi_keep_conn` off and on (an upstream with `keepalive`), the app at
 * the root and mounted at /app. Through each: the env as nginx's params make it, the response
 * head (status and reason, repeated fields, HEAD), bodies both ways, a client leaving, and
 * whether connections are kept. With the streaming settings (`fastcgi_buffering off`,
 * `fastcgi_request_buffering off`): a body flushed as it is written, a chunked upload, an SSE
 * stream reaching headless Chromium event by event, HTTPS, and 100 MiB uploads with flat
 * memory in the FastCGI process (a child: test/fixtures/fastcgi-app.ts).
 *
 * Without nginx (or its fastcgi_params) the tests skip with a printed reason, without Chromium
 * the browser tests do; with TSGI_REQUIRE_INTEGRATION=1 they fail instead.
 */
import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastCgiServer } from '../../src/server/fastcgi.js'
import { sse } from '../../src/sse.js'
import type { App } from '../../src/types.js'
import { nginxMounted, nginxRoot, nginxUpstream } from '../fixtures/fastcgi-configs.js'
import {
  bytes,
  envAt,
  fixtureCommand,
  freshSide,
  get,
  leaveAfter,
  MiB,
  serveFor,
  sha256,
  startFixture,
  stopFixture,
  testApp,
} from '../fixtures/fastcgi-frontend.js'
import { launchChromium, skipChromium } from './browser-fixture.js'
import { type Nginx, nginxFastcgiMissing, nginxFastcgiParams, startNginx } from './nginx-fixture.js'
import { deferred, ErrorSink } from './node-helpers.js'
import { skipWithout, tlsFixture, tlsMissing } from './tls-fixture.js'

const skip = skipWithout('FastCGI behind nginx', nginxFastcgiMissing)
const skipBrowser = skip || skipChromium('FastCGI SSE through nginx in Chromium')
const skipTls = skip || skipWithout('FastCGI behind nginx with TLS', tlsMissing)

/** A temp dir for sockets and certificates, removed after the file. */
const dir = mkdtempSync(join(tmpdir(), 'tsgi-fcgi-nginx-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// ---------------------------------------------------------------------------------------------
// The four ways nginx reaches the server

interface Variant {
  readonly transport: 'unix' | 'tcp'
  readonly keepConn: boolean
}

const VARIANTS: readonly Variant[] = [
  { transport: 'unix', keepConn: false },
  { transport: 'unix', keepConn: true },
  { transport: 'tcp', keepConn: false },
  { transport: 'tcp', keepConn: true },
]

for (const variant of VARIANTS) {
  const label = `nginx → FastCGI over ${variant.transport === 'unix' ? 'a unix socket' : 'TCP'}, fastcgi_keep_conn ${variant.keepConn ? 'on' : 'off'}`
  describe.skipIf(skip)(label, () => {
    let side = freshSide()
    const errors = new ErrorSink()
    let server: FastCgiServer
    let connections: () => number
    let nginx: Nginx
    beforeAll(async () => {
      const served = await serveFor(
        testApp(() => side),
        variant.transport,
        errors,
        dir,
      )
      server = served.server
      connections = served.connections
      const pass = variant.keepConn ? 'tsgi_app' : served.target
      const o = { pass, keepConn: variant.keepConn, params: nginxFastcgiParams }
      nginx = await startNginx({
        http: variant.keepConn ? nginxUpstream(served.target) : '',
        extra: nginxRoot(o) + nginxMounted(o),
      })
    })
    afterAll(async () => {
      await nginx?.stop()
      await server?.close()
    })

    it('at the root: SCRIPT_NAME empty, PATH_INFO decoded once, REQUEST_URI and QUERY_STRING raw', async () => {
      const env = await envAt(nginx.url, '/a%2Fb/c%20d%25/?x=%41&y', { 'X-Test': 'yes' })
      expect(env).toMatchObject({
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: '',
        PATH_INFO: '/a/b/c d%/',
        REQUEST_URI: '/a%2Fb/c%20d%25/?x=%41&y',
        QUERY_STRING: 'x=%41&y',
        SERVER_PROTOCOL: 'HTTP/1.1',
        SERVER_NAME: 'localhost',
        SERVER_PORT: String(nginx.port),
        REMOTE_ADDR: '127.0.0.1',
        HTTP_X_TEST: 'yes',
        SERVER_SOFTWARE: expect.stringMatching(/^nginx\//),
        'tsgi.url_scheme': 'http',
      })
      expect(env.HTTP_CONTENT_LENGTH).toBeUndefined()
      // nginx's own variables from fastcgi_params are kept as they came
      expect(env.DOCUMENT_URI).toBe('/a/b/c d%/')
      expect(errors.text).toBe('')
    })

    it('at the root: the later of two params of one name wins (fastcgi_params sets SCRIPT_NAME first)', async () => {
      const env = await envAt(nginx.url, '/deep/path')
      expect([env.SCRIPT_NAME, env.PATH_INFO]).toEqual(['', '/deep/path'])
    })

    it.each([
      ['/app/x%20y/z?q=1', '/x y/z', '/app/x%20y/z?q=1'],
      ['/app/', '/', '/app/'],
      ['/app/a%0Ab', '/a\nb', '/app/a%0Ab'],
      ['/app/a//b', '/a//b', '/app/a//b'],
    ])('mounted at /app: %s has SCRIPT_NAME /app and PATH_INFO %j', async (path, pathInfo, uri) => {
      const env = await envAt(nginx.url, path)
      expect([env.SCRIPT_NAME, env.PATH_INFO, env.REQUEST_URI]).toEqual(['/app', pathInfo, uri])
    })

    it('mounted at /app: /app itself is redirected to /app/ by nginx', async () => {
      const got = await get(nginx.url, '/app')
      expect(got.status).toBe(301)
      expect(got.headers.location).toMatch(/\/app\/$/)
    })

    it('a custom reason phrase, and an unregistered status with its own, reach the client', async () => {
      const reason = await get(nginx.url, '/reason')
      expect([reason.status, reason.reason, reason.body.toString()]).toEqual([200, 'Pretty Good', 'ok'])
      const custom = await get(nginx.url, '/custom')
      expect([custom.status, custom.reason, custom.body.toString()]).toEqual([299, 'Custom Thing', 'custom'])
    })

    it('repeated header names stay apart, in order', async () => {
      const got = await get(nginx.url, '/headers')
      const pairs: string[] = []
      for (let i = 0; i < got.raw.length; i += 2) {
        const name = got.raw[i]!.toLowerCase()
        if (name === 'set-cookie' || name === 'x-multi') pairs.push(`${name}: ${got.raw[i + 1]}`)
      }
      expect(pairs).toEqual(['set-cookie: a=1; Path=/', 'x-multi: one', 'set-cookie: b=2', 'x-multi: two'])
    })

    it('HEAD: the head (Content-Length kept) and no body', async () => {
      const got = await get(nginx.url, '/length', { method: 'HEAD' })
      expect([got.status, got.headers['content-length'], got.body.length]).toEqual([200, '5', 0])
      const env = await envAt(nginx.url, '/after-head')
      expect(env.REQUEST_METHOD).toBe('GET')
    })

    it('a 1 MiB array body and a streamed 1 MiB body arrive whole', async () => {
      const big = await get(nginx.url, '/big')
      expect([big.status, big.headers['content-length'], sha256(big.body)]).toEqual([
        200,
        String(MiB),
        sha256(bytes(MiB)),
      ])
      const streamed = await get(nginx.url, '/stream')
      const expected = Buffer.concat(Array.from({ length: 16 }, (_, i) => bytes(64 * 1024, i)))
      expect([streamed.status, streamed.body.length, sha256(streamed.body)]).toEqual([
        200,
        MiB,
        sha256(expected),
      ])
    })

    it('a request body reaches tsgi.input: with Content-Length, and chunked (nginx buffers it and counts it)', async () => {
      // under nginx's default client_max_body_size (1m)
      const body = bytes(900 * 1024 + 7)
      const sized = await get(nginx.url, '/echo', { method: 'POST', body })
      expect(JSON.parse(sized.body.toString())).toEqual({
        bytes: body.length,
        sha256: sha256(body),
        CONTENT_LENGTH: String(body.length),
      })
      const chunks = [bytes(1000, 1), bytes(70_000, 2), bytes(5, 3)]
      const chunked = await get(nginx.url, '/echo', {
        method: 'POST',
        headers: { 'Transfer-Encoding': 'chunked' },
        body: chunks,
      })
      const all = Buffer.concat(chunks)
      expect(JSON.parse(chunked.body.toString())).toEqual({
        bytes: all.length,
        sha256: sha256(all),
        CONTENT_LENGTH: String(all.length),
      })
    })

    it("a client that leaves mid-response aborts tsgix.signal with 'client-disconnected'", async () => {
      side = freshSide()
      await leaveAfter(nginx.url, '/hold', 'first;')
      expect(await side.aborted.promise).toBe('client-disconnected')
      // the server goes on serving
      expect((await envAt(nginx.url, '/after')).PATH_INFO).toBe('/after')
    })

    it(
      variant.keepConn
        ? 'fastcgi_keep_conn on: requests share the kept connections'
        : 'fastcgi_keep_conn off: one connection per request',
      async () => {
        const before = connections()
        for (let i = 0; i < 6; i++)
          expect((await envAt(nginx.url, `/count/${i}`)).PATH_INFO).toBe(`/count/${i}`)
        const opened = connections() - before
        if (variant.keepConn) expect(opened).toBeLessThanOrEqual(1)
        else expect(opened).toBe(6)
      },
    )
  })
}

// ---------------------------------------------------------------------------------------------
// Streaming: fastcgi_buffering off, fastcgi_request_buffering off

describe.skipIf(skip)('nginx → FastCGI with the streaming settings', () => {
  let side = freshSide()
  const errors = new ErrorSink()
  let server: FastCgiServer
  let nginx: Nginx
  const httpsSocket = join(dir, 'https.sock')
  beforeAll(async () => {
    const served = await serveFor(
      testApp(() => side),
      'unix',
      errors,
      dir,
    )
    server = served.server
    const o = { pass: 'tsgi_app', keepConn: true, streaming: true, params: nginxFastcgiParams }
    let https = ''
    if (!skipTls) {
      const tls = tlsFixture()
      writeFileSync(join(dir, 'cert.pem'), tls.cert)
      writeFileSync(join(dir, 'key.pem'), tls.key)
      https = `server {
    listen unix:${httpsSocket} ssl;
    server_name localhost;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
${nginxRoot(o)}}
`
    }
    nginx = await startNginx({ http: nginxUpstream(served.target) + https, extra: nginxRoot(o) })
  })
  afterAll(async () => {
    await nginx?.stop()
    await server?.close()
  })

  it('a streamed body reaches the client as each chunk is written', async () => {
    side = freshSide()
    const { port } = new URL(nginx.url)
    const req = httpRequest({ host: '127.0.0.1', port, path: '/gated', agent: false })
    req.end()
    const [res] = (await once(req, 'response')) as [IncomingMessage]
    const [first] = (await once(res, 'data')) as [Buffer]
    // the second chunk is not written until the first has reached the client
    expect(first.toString()).toBe('first;')
    side.gate.resolve()
    let rest = ''
    for await (const chunk of res) rest += (chunk as Buffer).toString()
    expect(rest).toBe('second;')
  })

  it('a chunked upload streams to the app as it comes, without CONTENT_LENGTH', async () => {
    const chunks = [bytes(1000, 1), bytes(70_000, 2), bytes(5, 3)]
    const got = await get(nginx.url, '/echo', {
      method: 'POST',
      headers: { 'Transfer-Encoding': 'chunked' },
      body: chunks,
    })
    const all = Buffer.concat(chunks)
    expect(JSON.parse(got.body.toString())).toEqual({
      bytes: all.length,
      sha256: sha256(all),
      CONTENT_LENGTH: null,
    })
  })

  it("a client that leaves mid-response aborts tsgix.signal with 'client-disconnected'", async () => {
    side = freshSide()
    await leaveAfter(nginx.url, '/hold', 'first;')
    expect(await side.aborted.promise).toBe('client-disconnected')
  })

  it.skipIf(skipTls)('HTTPS at nginx: the HTTPS param makes tsgi.url_scheme https', async () => {
    const env = await new Promise<Record<string, string>>((resolve, reject) => {
      const req = httpsRequest(
        { socketPath: httpsSocket, path: '/secure?x', rejectUnauthorized: false, agent: false },
        (res) => {
          let body = ''
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString()
          })
          res.on('end', () => resolve(JSON.parse(body) as Record<string, string>))
        },
      )
      req.on('error', reject)
      req.end()
    })
    expect([env.HTTPS, env.REQUEST_SCHEME, env['tsgi.url_scheme'], env.PATH_INFO]).toEqual([
      'on',
      'https',
      'https',
      '/secure',
    ])
  })
})

// ---------------------------------------------------------------------------------------------
// SSE in a real browser

const PAGE = `<!doctype html><title>tsgi sse over fastcgi</title><script>
window.received = [];
window.done = false;
const source = new EventSource('/events');
source.addEventListener('tick', (e) => { window.received.push(e.lastEventId + ' ' + e.data); });
source.addEventListener('done', () => { source.close(); window.done = true; });
</script>`

describe.skipIf(skipBrowser)('nginx → FastCGI: SSE in Chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchChromium()
  }, 30_000)
  afterAll(async () => {
    await browser?.close()
  })

  it.each([
    ['fastcgi_buffering off', true],
    ['fastcgi_buffering on, as by default (sse() sends X-Accel-Buffering: no)', false],
  ])(
    'each event reaches EventSource before the next is sent: %s',
    async (_, streaming) => {
      /** Opened by the test once the page has shown event `i`. */
      const shown = [deferred(), deferred(), deferred()]
      const errors = new ErrorSink()
      const app: App = (env) => {
        if (env.PATH_INFO !== '/events') return [200, ['Content-Type', 'text/html; charset=utf-8'], [PAGE]]
        return sse(env, async (stream) => {
          for (let i = 0; i < 3; i++) {
            await stream.send({ id: String(i + 1), event: 'tick', data: `tick ${i + 1}` })
            await shown[i]!.promise
          }
          await stream.send({ event: 'done', data: 'bye' })
        })
      }
      const served = await serveFor(app, 'unix', errors, dir)
      const o = { pass: 'tsgi_app', keepConn: true, streaming, params: nginxFastcgiParams }
      const nginx = await startNginx({ http: nginxUpstream(served.target), extra: nginxRoot(o) })
      const page = await browser.newPage()
      try {
        await page.goto(`${nginx.url}/`)
        for (let i = 1; i <= 3; i++) {
          await page.waitForFunction(
            (n) => (window as unknown as { received: string[] }).received.length >= n,
            i,
            { timeout: 10_000 },
          )
          shown[i - 1]!.resolve()
        }
        await page.waitForFunction(() => (window as unknown as { done: boolean }).done, undefined, {
          timeout: 10_000,
        })
        const ticks = await page.evaluate(() => (window as unknown as { received: string[] }).received)
        expect(ticks).toEqual(['1 tick 1', '2 tick 2', '3 tick 3'])
        expect(errors.text).toBe('')
      } finally {
        await page.close()
        await nginx.stop()
        await served.server.close()
      }
    },
    30_000,
  )
})

// ---------------------------------------------------------------------------------------------
// 100 MiB uploads, the FastCGI server in a process of its own

/** `n` MiB in 1 MiB chunks, made as they are sent. */
function* mebibytes(n: number): Generator<Uint8Array> {
  const chunk = bytes(MiB)
  for (let i = 0; i < n; i++) yield chunk
}

describe.skipIf(skip)('nginx → FastCGI: 100 MiB uploads with flat memory', () => {
  let child: ChildProcess
  let nginx: Nginx
  beforeAll(async () => {
    const socket = join(dir, 'upload.sock')
    child = await startFixture(fixtureCommand('--path', socket))
    const params = nginxFastcgiParams
    nginx = await startNginx({
      // at /: streamed through (fastcgi_request_buffering off); at /app/: nginx's default, the
      // body spooled to a temp file first, then sent as fast as the server takes it
      extra: `client_max_body_size 0;\n${nginxRoot({ pass: `unix:${socket}`, streaming: true, params })}${nginxMounted({ pass: `unix:${socket}`, params })}`,
    })
    // a first upload warms the process up (its heap and buffer pools grow to their working size)
    for (const path of ['/upload', '/app/upload']) {
      expect((await get(nginx.url, path, { method: 'POST', body: mebibytes(16) })).status).toBe(200)
    }
  }, 20_000)
  afterAll(async () => {
    await nginx?.stop()
    await stopFixture(child)
  })

  const chunk = bytes(MiB)
  const expectedSha = (() => {
    const hash = createHash('sha256')
    for (let i = 0; i < 100; i++) hash.update(chunk)
    return hash.digest('hex')
  })()

  it.each([
    ['fastcgi_request_buffering off (streamed through)', '/upload'],
    ['fastcgi_request_buffering on (spooled by nginx)', '/app/upload'],
  ])(
    '%s: the app reads 100 MiB while its RSS grows by less than 16 MiB',
    async (_, path) => {
      const got = await get(nginx.url, path, { method: 'POST', body: mebibytes(100) })
      expect(got.status).toBe(200)
      const seen = JSON.parse(got.body.toString()) as {
        bytes: number
        sha256: string
        before: number
        max: number
      }
      expect([seen.bytes, seen.sha256]).toEqual([100 * MiB, expectedSha])
      expect((seen.max - seen.before) / MiB).toBeLessThan(16)
    },
    30_000,
  )
})
