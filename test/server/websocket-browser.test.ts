/**
 * The WebSocket extension against a real browser: headless Chromium (playwright-core with
 * Debian's chromium) loads a page from the same tsgi app it then opens WebSockets to, so the
 * handshake carries a real `Origin`, real cookies and Chromium's own framing. Covered: echo of a
 * text and of a 1 MiB binary message (checksums compared in the page and on the server), a
 * subprotocol the server chooses, close codes seen by both sides, a handshake refused by
 * Auth::Basic, the Session cookie on the handshake and a session started by the handshake (its
 * Set-Cookie on the 101); then echo and close codes again through a real nginx reverse proxy.
 *
 * Without chromium (or nginx, for the proxy cases) the tests skip with a printed reason, or fail
 * when TSGI_REQUIRE_INTEGRATION=1.
 */
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket as WsClient } from 'ws'
import { builder, enable, mount } from '../../builder/index.js'
import type { App, Env, Triple } from '../../src/types.js'
import type {
  WebSocketAcceptOptions,
  WebSocketCloseInfo,
  WebSocketEndReason,
  WebSocketHandler,
} from '../../src/websocket.js'
import { launchChromium, skipChromium as skipWithoutChromium } from './browser-fixture.js'
import { type Nginx, skipNginx, startNginx } from './nginx-fixture.js'
import { deferred, start } from './node-helpers.js'

const skipChromium = skipWithoutChromium('WebSocket Chromium tests')
const skipProxy = skipChromium || skipNginx('WebSocket Chromium tests through nginx')

// ---------------------------------------------------------------------------------------------
// The page: a helper script that opens a socket and queues what arrives

/** How the page saw a socket close. */
interface CloseSeen {
  readonly code: number
  readonly reason: string
  readonly wasClean: boolean
  /** An `error` event fired first. */
  readonly error: boolean
}

/** A socket as the page's helper script gives it. */
interface PageSocket {
  readonly ws: WebSocket
  /** Whether it opened (false: the handshake failed; `closed` says how). */
  readonly opened: boolean
  readonly closed: Promise<CloseSeen>
  /** The next message (string, or ArrayBuffer for binary). */
  next(): Promise<string | ArrayBuffer>
}

/** What the page's script puts on `window`. */
interface PageHelpers {
  openSocket(path: string, protocols?: string[]): Promise<PageSocket>
  /** FNV-1a (32 bits) of the bytes, as {@link fnv1a} computes it in node. */
  checksum(data: ArrayBuffer | Uint8Array): number
}

const PAGE_SCRIPT = `
window.openSocket = (path, protocols) => new Promise((resolve) => {
  const url = new URL(path, location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  const ws = new WebSocket(url, protocols)
  ws.binaryType = 'arraybuffer'
  const queue = []
  const waiting = []
  let error = false
  const socket = {
    ws,
    opened: false,
    closed: new Promise((done) => ws.addEventListener('close', (e) =>
      done({ code: e.code, reason: e.reason, wasClean: e.wasClean, error }))),
    next: () => queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r)),
  }
  ws.addEventListener('error', () => { error = true })
  ws.addEventListener('message', (e) => {
    const w = waiting.shift()
    if (w) w(e.data)
    else queue.push(e.data)
  })
  ws.addEventListener('open', () => { socket.opened = true; resolve(socket) })
  socket.closed.then(() => resolve(socket))
})
window.checksum = (data) => {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data)
  let h = 0x811c9dc5
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193)
  return h >>> 0
}
`

const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>tsgi websocket</title><link rel="icon" href="data:,"><script>${PAGE_SCRIPT}</script><p>ready</p>`

/** FNV-1a (32 bits), the page's `checksum`. */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193)
  return h >>> 0
}

const text = (body: string, status = 200): Triple => [
  status,
  ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body))],
  [body],
]

/**
 * The test site: the page at `/`, `handler` for WebSocket handshakes (any path), `routes` for
 * other paths, 404 for the rest.
 */
function site(
  handler: WebSocketHandler,
  options: WebSocketAcceptOptions = {},
  routes: Record<string, (env: Env) => Triple> = {},
): App {
  return (env) => {
    const ws = env['tsgix.websocket']
    if (ws) return ws.accept(handler, options)
    if (env.PATH_INFO === '/') return [200, ['Content-Type', 'text/html; charset=utf-8'], [PAGE_HTML]]
    const route = routes[env.PATH_INFO]
    return route ? route(env) : text('Not Found\n', 404)
  }
}

// ---------------------------------------------------------------------------------------------
// One browser for the file, a fresh context (no cookies) per test

let browser: Browser | undefined
const closers: (() => Promise<void>)[] = []

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

async function newPage(url: string): Promise<Page> {
  const context = await browser!.newContext()
  closers.push(() => context.close())
  const page = await context.newPage()
  const response = await page.goto(`${url}/`)
  expect(response?.status()).toBe(200)
  expect(await page.textContent('p')).toBe('ready')
  return page
}

/** What an echo handler saw. */
interface Received {
  readonly kind: 'text' | 'binary'
  readonly length: number
  readonly checksum: number
}

/** Echoes every message, recording what it received. */
function recordingEcho(received: Received[]): WebSocketHandler {
  return async (socket) => {
    for await (const message of socket) {
      if (typeof message === 'string') {
        received.push({ kind: 'text', length: message.length, checksum: fnv1a(Buffer.from(message)) })
      } else received.push({ kind: 'binary', length: message.byteLength, checksum: fnv1a(message) })
      await socket.send(message)
    }
  }
}

const MIB = 1024 * 1024

/** In the page at `url`: a text and a 1 MiB binary message echoed; the server saw both whole. */
async function checkEcho(url: string, received: Received[]): Promise<void> {
  const page = await newPage(url)
  const seen = await page.evaluate(async (size) => {
    const h = window as unknown as PageHelpers
    const socket = await h.openSocket('/echo')
    if (!socket.opened) return { opened: false }
    socket.ws.send('héllo, wörld ✓')
    const textBack = await socket.next()
    const bytes = new Uint8Array(size)
    for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >>> 10)) & 0xff
    socket.ws.send(bytes.buffer)
    const binaryBack = await socket.next()
    socket.ws.close(1000)
    const closed = await socket.closed
    return {
      opened: true,
      textBack,
      binaryType: binaryBack instanceof ArrayBuffer ? 'ArrayBuffer' : typeof binaryBack,
      binaryLength: binaryBack instanceof ArrayBuffer ? binaryBack.byteLength : -1,
      sentChecksum: h.checksum(bytes),
      backChecksum: binaryBack instanceof ArrayBuffer ? h.checksum(binaryBack) : -1,
      closed,
    }
  }, MIB)
  expect(seen.opened).toBe(true)
  expect(seen.textBack).toBe('héllo, wörld ✓')
  expect(seen.binaryType).toBe('ArrayBuffer')
  expect(seen.binaryLength).toBe(MIB)
  expect(seen.backChecksum).toBe(seen.sentChecksum)
  expect(seen.closed).toEqual({ code: 1000, reason: '', wasClean: true, error: false })
  expect(received).toEqual([
    { kind: 'text', length: 14, checksum: fnv1a(Buffer.from('héllo, wörld ✓')) },
    { kind: 'binary', length: MIB, checksum: seen.sentChecksum },
  ])
}

/** What a close handler saw at the end of a connection. */
interface ServerEnd {
  readonly closed: WebSocketCloseInfo
  readonly signal: WebSocketEndReason
}

/**
 * Closes with 4002 'server bye' on the message `close me`; otherwise waits for the peer to
 * close. Either way it reports how the connection ended.
 */
function closingHandler(ends: ((end: ServerEnd) => void)[]): WebSocketHandler {
  return async (socket) => {
    for await (const message of socket) {
      if (message === 'close me') socket.close(4002, 'server bye')
    }
    const closed = await socket.closed
    ends.shift()?.({ closed, signal: socket.signal.reason as WebSocketEndReason })
  }
}

/** In the page at `url`: the page closes with 4001 'bye', then the server closes with 4002. */
async function checkCloseCodes(url: string, ends: ((end: ServerEnd) => void)[]): Promise<void> {
  const page = await newPage(url)

  const byPage = deferred<ServerEnd>()
  ends.push(byPage.resolve)
  const pageSide = await page.evaluate(async () => {
    const h = window as unknown as PageHelpers
    const socket = await h.openSocket('/close')
    if (!socket.opened) return { opened: false }
    socket.ws.close(4001, 'bye')
    return { opened: true, closed: await socket.closed }
  })
  expect(pageSide).toEqual({
    opened: true,
    closed: { code: 4001, reason: 'bye', wasClean: true, error: false },
  })
  expect(await byPage.promise).toEqual({ closed: { code: 4001, reason: 'bye' }, signal: 'closed' })

  const byServer = deferred<ServerEnd>()
  ends.push(byServer.resolve)
  const serverSide = await page.evaluate(async () => {
    const h = window as unknown as PageHelpers
    const socket = await h.openSocket('/close')
    if (!socket.opened) return { opened: false }
    socket.ws.send('close me')
    return { opened: true, closed: await socket.closed }
  })
  expect(serverSide).toEqual({
    opened: true,
    closed: { code: 4002, reason: 'server bye', wasClean: true, error: false },
  })
  // The page answered the server's close frame with the same code.
  expect(await byServer.promise).toEqual({ closed: { code: 4002, reason: 'server bye' }, signal: 'closed' })
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(skipChromium)('WebSocket: Chromium', () => {
  beforeAll(async () => {
    browser = await launchChromium(['--disable-quic'])
  })
  afterAll(async () => {
    await browser?.close()
    browser = undefined
  })

  it('echoes a text message and a 1 MiB binary message', async () => {
    const received: Received[] = []
    const { url } = await start(site(recordingEcho(received)))
    await checkEcho(url, received)
  })

  it('agrees on the subprotocol the server chose, seen as ws.protocol in the page', async () => {
    const offered = deferred<readonly string[]>()
    const onServer = deferred<string>()
    const app: App = (env) => {
      const ws = env['tsgix.websocket']
      if (!ws) return site(() => {})(env)
      offered.resolve(ws.protocols)
      // The server's preference, not the client's order: the last one offered that it speaks.
      const protocol = ['echo.v2', 'echo.v1'].find((p) => ws.protocols.includes(p))
      return ws.accept(
        async (socket) => {
          onServer.resolve(socket.protocol)
          for await (const message of socket) await socket.send(`${socket.protocol}:${String(message)}`)
        },
        protocol === undefined ? {} : { protocol },
      )
    }
    const { url } = await start(app)
    const page = await newPage(url)
    const seen = await page.evaluate(async () => {
      const h = window as unknown as PageHelpers
      const socket = await h.openSocket('/chat', ['chat', 'echo.v1', 'echo.v2'])
      if (!socket.opened) return { opened: false }
      socket.ws.send('hi')
      const reply = await socket.next()
      socket.ws.close()
      await socket.closed
      return { opened: true, protocol: socket.ws.protocol, reply }
    })
    expect(seen).toEqual({ opened: true, protocol: 'echo.v2', reply: 'echo.v2:hi' })
    expect(await offered.promise).toEqual(['chat', 'echo.v1', 'echo.v2'])
    expect(await onServer.promise).toBe('echo.v2')
  })

  it('shows close codes to both sides: 4001 from the page, 4002 from the server', async () => {
    const ends: ((end: ServerEnd) => void)[] = []
    const { url } = await start(site(closingHandler(ends)))
    await checkCloseCodes(url, ends)
  })

  it('a handshake refused by Auth::Basic fails in the page (1006) and was a 401 on the server', async () => {
    const log: string[] = []
    let handled = 0
    const sockets = builder(
      enable('Auth::Basic', { authenticator: (user, password) => user === 'alice' && password === 'secret' }),
      site((socket) => {
        handled++
        return socket.send('welcome')
      }),
    )
    const app = builder(
      enable('AccessLog', { format: '%>s "%r" %{Upgrade}i', logger: (line) => log.push(line.trimEnd()) }),
      mount('/ws', sockets),
      mount(
        '/',
        site(() => {}),
      ),
    )
    const { url, port } = await start(app)
    const page = await newPage(url)
    const seen = await page.evaluate(async () => {
      const h = window as unknown as PageHelpers
      const socket = await h.openSocket('/ws')
      return { opened: socket.opened, closed: await socket.closed }
    })
    expect(seen).toEqual({ opened: false, closed: { code: 1006, reason: '', wasClean: false, error: true } })
    expect(handled).toBe(0)
    expect(log).toEqual(['200 "GET / HTTP/1.1" -', '401 "GET /ws HTTP/1.1" websocket'])

    // The same stack lets a client with the credentials through.
    const client = new WsClient(`ws://127.0.0.1:${port}/ws`, {
      headers: { Authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` },
    })
    const [message] = (await once(client, 'message')) as [Buffer]
    expect(message.toString()).toBe('welcome')
    client.close()
    await once(client, 'close')
    expect(handled).toBe(1)
    expect(log.slice(1)).toEqual(['401 "GET /ws HTTP/1.1" websocket', '101 "GET /ws HTTP/1.1" websocket'])
  })

  it('carries the Session cookie on the handshake: the handler sees the session a fetch set', async () => {
    const cookies: unknown[] = []
    const app = builder(
      enable('Session'),
      site(
        async (socket) => {
          cookies.push(socket.env.HTTP_COOKIE)
          await socket.send(JSON.stringify(socket.env['tsgix.session'] ?? null))
          for await (const _ of socket);
        },
        {},
        {
          '/login': (env) => {
            env['tsgix.session']!.user = 'alice'
            return text('logged in\n')
          },
        },
      ),
    )
    const { url } = await start(app)
    const page = await newPage(url)
    const seen = await page.evaluate(async () => {
      const h = window as unknown as PageHelpers
      const login = await fetch('/login')
      const socket = await h.openSocket('/ws')
      if (!socket.opened) return { opened: false }
      const session = await socket.next()
      socket.ws.close()
      await socket.closed
      return { login: login.status, opened: true, session, cookie: document.cookie }
    })
    // HttpOnly: the page cannot read it, but the handshake carried it.
    expect(seen).toEqual({ login: 200, opened: true, session: '{"user":"alice"}', cookie: '' })
    expect(cookies).toEqual([expect.stringMatching(/^tsgi_session=[\w-]+$/)])
  })

  it('a session started on the handshake has its Set-Cookie on the 101', async () => {
    const app = builder(enable('Session'), (env) => {
      const ws = env['tsgix.websocket']
      // The session begins before accept(): its cookie goes out on the 101.
      if (ws) env['tsgix.session']!.startedBy = 'handshake'
      return site(
        async (socket) => {
          await socket.send('hello')
          for await (const _ of socket);
        },
        {},
        { '/whoami': (e) => text(String(e['tsgix.session']?.startedBy ?? 'nobody')) },
      )(env)
    })
    const { url, port } = await start(app)

    // A node client sees the 101's headers (a page cannot).
    const client = new WsClient(`ws://127.0.0.1:${port}/ws`)
    // The message can come in the same read as the 101: listen for both at once.
    const hello = once(client, 'message')
    const [response] = (await once(client, 'upgrade')) as [IncomingMessage]
    expect(response.statusCode).toBe(101)
    const setCookie = response.headers['set-cookie'] ?? []
    expect(setCookie).toHaveLength(1)
    expect(setCookie[0]).toMatch(/^tsgi_session=[\w-]+; Path=\/; HttpOnly; SameSite=Lax$/)
    expect(String((await hello)[0])).toBe('hello')
    client.close()
    await once(client, 'close')
    const cookie = setCookie[0]!.split(';')[0]!
    const whoami = await fetch(`${url}/whoami`, { headers: { cookie } })
    expect(await whoami.text()).toBe('handshake')

    // The browser keeps the cookie of the 101: its next request belongs to that session.
    const page = await newPage(url)
    const seen = await page.evaluate(async () => {
      const h = window as unknown as PageHelpers
      const before = await (await fetch('/whoami')).text()
      const socket = await h.openSocket('/ws')
      if (!socket.opened) return { opened: false }
      const hello = await socket.next()
      socket.ws.close()
      await socket.closed
      const after = await (await fetch('/whoami')).text()
      return { opened: true, before, hello, after }
    })
    expect(seen).toEqual({ opened: true, before: 'nobody', hello: 'hello', after: 'handshake' })
  })

  describe.skipIf(skipProxy)('through nginx', () => {
    /**
     * nginx as a reverse proxy: the fixture passes `Host $host`, which drops the port; the
     * default 'same-origin' check then compares host names, so the page's handshakes pass.
     */
    async function behindNginx(make: (options: WebSocketAcceptOptions) => App): Promise<{ nginx: Nginx }> {
      const { url } = await start(make({}))
      const nginx = await startNginx({ upstream: url })
      closers.push(() => nginx.stop())
      return { nginx }
    }

    it('echoes a text message and a 1 MiB binary message', async () => {
      const received: Received[] = []
      const { nginx } = await behindNginx((options) => site(recordingEcho(received), options))
      await checkEcho(nginx.url, received)
    })

    it('shows close codes to both sides: 4001 from the page, 4002 from the server', async () => {
      const ends: ((end: ServerEnd) => void)[] = []
      const { nginx } = await behindNginx((options) => site(closingHandler(ends), options))
      await checkCloseCodes(nginx.url, ends)
    })
  })
})
