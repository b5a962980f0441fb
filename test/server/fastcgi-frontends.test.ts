/**
 * `tsgi/server/fastcgi` behind the other real front ends (Debian's) on loopback, with the
 * configurations docs/servers.md shows (test/fixtures/fastcgi-configs.ts; a test here checks
 * the docs hold them verbatim): lighttpd `mod_fastcgi` at the root (`fix-root-scriptname`) and
 * at /app, and spawning the server itself with the socket on fd 0 (`bin-path`); Apache httpd
 * `mod_proxy_fcgi` over a unix socket and TCP, at the root and at /app, and what it sends
 * without `proxy-fcgi-pathinfo`; and `spawn-fcgi` handing a unix or TCP socket to a node
 * process on fd 0, with nginx in front. Through each: the SCRIPT_NAME/PATH_INFO split,
 * REQUEST_URI, a request body, a response streamed as it is written, and the client leaving.
 * nginx itself is tested in fastcgi-nginx.test.ts.
 *
 * Each front end missing makes its tests skip with a printed reason; with
 * TSGI_REQUIRE_INTEGRATION=1 they fail instead.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  apacheAt,
  apacheBackend,
  lighttpdMounted,
  lighttpdRoot,
  nginxMounted,
  nginxRoot,
  nginxUpstream,
} from '../fixtures/fastcgi-configs.js'
import {
  bytes,
  envAt,
  fixtureCommand,
  fixtureReady,
  freshSide,
  get,
  leaveAfter,
  root,
  type Served,
  serveFor,
  sha256,
  stopFixture,
  testApp,
} from '../fixtures/fastcgi-frontend.js'
import { type FrontEnd, skipApache, startApache } from './apache-fixture.js'
import { skipLighttpd, startLighttpd } from './lighttpd-fixture.js'
import { freePort, type Nginx, nginxFastcgiMissing, nginxFastcgiParams, startNginx } from './nginx-fixture.js'
import { ErrorSink } from './node-helpers.js'
import { findBinary, skipWithout, tlsFixture, tlsMissing } from './tls-fixture.js'

const dir = mkdtempSync(join(tmpdir(), 'tsgi-fcgi-frontends-'))
// Apache's children (nobody, when started as root) reach the sockets in it
chmodSync(dir, 0o755)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The server side of a describe block: its app's side (replaced per test), its errors, its server. */
function backend(transport: 'unix' | 'tcp' = 'unix') {
  const state = { side: freshSide(), errors: new ErrorSink(), served: undefined as Served | undefined }
  beforeAll(async () => {
    state.served = await serveFor(
      testApp(() => state.side),
      transport,
      state.errors,
      dir,
    )
  })
  afterAll(async () => {
    await state.served?.server.close()
  })
  return state
}

/** Starts a front end in `beforeAll` and stops it after the block; the result gives the running one. */
function frontEnd(start: () => Promise<FrontEnd>): () => FrontEnd {
  let running: FrontEnd | undefined
  beforeAll(async () => {
    running = await start()
  })
  afterAll(async () => {
    await running?.stop()
  })
  return () => {
    if (running === undefined) throw new Error('the front end did not start')
    return running
  }
}

/** GETs `path` and resolves with the first chunk of its body and a reader of the rest. */
async function firstChunk(
  url: string,
  path: string,
): Promise<{ first: string; rest: () => Promise<string> }> {
  const { port } = new URL(url)
  const req = httpRequest({ host: '127.0.0.1', port, path, agent: false })
  req.end()
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  const [first] = (await once(res, 'data')) as [Buffer]
  return {
    first: first.toString(),
    rest: async () => {
      let rest = ''
      for await (const chunk of res) rest += (chunk as Buffer).toString()
      return rest
    },
  }
}

/** The checks every front end's root configuration runs: body, streaming, the client leaving. */
function commonChecks(
  url: () => string,
  state: ReturnType<typeof backend>,
  leavePath: '/hold' | '/ticker',
): void {
  it('a request body reaches tsgi.input, with Content-Length and chunked', async () => {
    const body = bytes(900 * 1024 + 7)
    const sized = await get(url(), '/echo', { method: 'POST', body })
    expect(JSON.parse(sized.body.toString())).toMatchObject({ bytes: body.length, sha256: sha256(body) })
    const chunks = [bytes(1000, 1), bytes(70_000, 2), bytes(5, 3)]
    const all = Buffer.concat(chunks)
    const chunked = await get(url(), '/echo', {
      method: 'POST',
      headers: { 'Transfer-Encoding': 'chunked' },
      body: chunks,
    })
    expect(chunked.status, chunked.body.toString()).toBe(200)
    expect(JSON.parse(chunked.body.toString())).toMatchObject({ bytes: all.length, sha256: sha256(all) })
  })

  it('a streamed body reaches the client as each chunk is written', async () => {
    state.side = freshSide()
    const { first, rest } = await firstChunk(url(), '/gated')
    // the second chunk is not written until the first has reached the client
    expect(first).toBe('first;')
    state.side.gate.resolve()
    expect(await rest()).toBe('second;')
  })

  it("a client that leaves mid-response aborts tsgix.signal with 'client-disconnected'", async () => {
    state.side = freshSide()
    await leaveAfter(url(), leavePath, 'first;')
    expect(await state.side.aborted.promise).toBe('client-disconnected')
    expect((await envAt(url(), '/after')).PATH_INFO).toBe('/after')
    expect(state.errors.text).toBe('')
  })
}

// ---------------------------------------------------------------------------------------------
// lighttpd mod_fastcgi

const skipLighty = skipLighttpd('FastCGI behind lighttpd')

describe.skipIf(skipLighty)('lighttpd mod_fastcgi → FastCGI, the app at the root', () => {
  const state = backend()
  const lighttpd = frontEnd(() => startLighttpd({ config: lighttpdRoot(state.served!.socket) }))
  const url = () => lighttpd().url

  it.each([
    // lighttpd merges slashes and decodes %2F in its PATH_INFO: the server takes REQUEST_URI's
    ['/r//s%2Fx%20y?t=%41', '/r//s/x y', 't=%41'],
    ['/', '/', ''],
    ['/a%25b/', '/a%b/', ''],
  ])('%s: SCRIPT_NAME empty, PATH_INFO %j, REQUEST_URI raw', async (path, pathInfo, query) => {
    const env = await envAt(url(), path)
    expect(env).toMatchObject({
      SCRIPT_NAME: '',
      PATH_INFO: pathInfo,
      REQUEST_URI: path,
      QUERY_STRING: query,
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: String(lighttpd().port),
      SERVER_SOFTWARE: expect.stringMatching(/^lighttpd\//),
      'tsgi.url_scheme': 'http',
    })
  })

  it("the status reaches the client, the reason phrase lighttpd's own; repeated fields stay apart", async () => {
    const got = await get(url(), '/custom')
    expect([got.status, got.body.toString()]).toEqual([299, 'custom'])
    const reason = await get(url(), '/reason')
    // lighttpd keeps only the code: its own phrase (none for a code it does not know)
    expect([got.reason, reason.status, reason.reason]).toEqual(['', 200, 'OK'])
    const headers = await get(url(), '/headers')
    expect(headers.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2'])
  })

  it('a failure after the head cuts the response: the chunked body never ends cleanly', async () => {
    state.side = freshSide()
    const { first, rest } = await firstChunk(url(), '/broken')
    expect(first).toBe('first;')
    state.side.gate.resolve()
    await expect(rest()).rejects.toThrow()
    await state.errors.waitFor(/broken after the head/)
    state.errors.lines.length = 0
  })

  // lighttpd watches only the backend while it relays: it notices the client gone when a write fails
  commonChecks(url, state, '/ticker')
})

describe.skipIf(skipLighty)('lighttpd mod_fastcgi → FastCGI, the app at /app', () => {
  const state = backend()
  const lighttpd = frontEnd(() => startLighttpd({ config: lighttpdMounted(state.served!.socket) }))

  it.each([
    ['/app/x%20y//z?q', '/x y//z'],
    ['/app/', '/'],
    ['/app', ''],
  ])('%s: SCRIPT_NAME /app, PATH_INFO %j', async (path, pathInfo) => {
    const env = await envAt(lighttpd().url, path)
    expect([env.SCRIPT_NAME, env.PATH_INFO, env.REQUEST_URI]).toEqual(['/app', pathInfo, path])
  })

  it('/appx is not the app (the condition keeps lighttpd from matching a prefix of a segment)', async () => {
    expect((await get(lighttpd().url, '/appx/y')).status).toBe(404)
  })
})

describe.skipIf(skipLighty || skipWithout('FastCGI behind lighttpd with TLS', tlsMissing))(
  'lighttpd mod_fastcgi → FastCGI over HTTPS',
  () => {
    const state = backend()
    const lighttpd = frontEnd(() => {
      const tls = tlsFixture()
      const pem = join(dir, 'lighttpd.pem')
      writeFileSync(pem, Buffer.concat([tls.cert, tls.key]))
      return startLighttpd({
        config: `server.modules += ( "mod_openssl" )
ssl.engine = "enable"
ssl.pemfile = "${pem}"
${lighttpdRoot(state.served!.socket)}`,
      })
    })

    it('lighttpd sends HTTPS=on: tsgi.url_scheme is https', async () => {
      const env = await httpsEnv({ port: lighttpd().port }, '/secure')
      expect([env.HTTPS, env['tsgi.url_scheme'], env.PATH_INFO]).toEqual(['on', 'https', '/secure'])
    })
  },
)

/** The env JSON of `path` over HTTPS (any certificate) at `where`. */
function httpsEnv(
  where: { port: number } | { socketPath: string },
  path: string,
): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', ...where, path, rejectUnauthorized: false, agent: false },
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
}

describe.skipIf(skipLighty)('lighttpd mod_fastcgi spawning the server (bin-path, the socket on fd 0)', () => {
  const socket = join(dir, 'lighttpd-spawned.sock')
  const lighttpd = frontEnd(() =>
    startLighttpd({
      config: lighttpdRoot(socket).replace(
        '"check-local" => "disable",',
        `"check-local" => "disable",
        "bin-path" => "${fixtureCommand('--fd', '0').join(' ')}",
        "max-procs" => 1,`,
      ),
    }),
  )

  it('the server lighttpd started listens on the socket it was handed and answers', async () => {
    const got = await get(lighttpd().url, '/listening')
    expect(got.status).toBe(200)
    expect(JSON.parse(got.body.toString())).toMatchObject({ url: 'fastcgi+fd://0/', fd0IsSocket: true })
    const env = await envAt(lighttpd().url, '/env?x=%41')
    expect([env.SCRIPT_NAME, env.PATH_INFO, env.QUERY_STRING]).toEqual(['', '/env', 'x=%41'])
  })
})

// ---------------------------------------------------------------------------------------------
// Apache httpd mod_proxy_fcgi

const skipHttpd = skipApache('FastCGI behind Apache httpd')
const APACHE_MODULES = ['proxy', 'proxy_fcgi', 'setenvif']

describe.skipIf(skipHttpd)('Apache mod_proxy_fcgi → FastCGI over a unix socket', () => {
  const state = backend()
  const apache = frontEnd(() =>
    startApache({
      modules: APACHE_MODULES,
      config: () => {
        // Location sections merge in order, the later winning: the root's comes first
        const to = apacheBackend(state.served!.socket)
        return `${apacheAt('/', to)}${apacheAt('/app/', to)}`
      },
    }),
  )
  const url = () => apache().url

  it.each([
    ['/a/x%20y//z?q=%41', '', '/a/x y//z'],
    ['/', '', '/'],
    ['/app/x%20y/z?q', '/app', '/x y/z'],
    ['/app/', '/app', '/'],
  ])('%s: SCRIPT_NAME %j, PATH_INFO %j, REQUEST_URI raw', async (path, scriptName, pathInfo) => {
    const env = await envAt(url(), path)
    expect(env).toMatchObject({
      SCRIPT_NAME: scriptName,
      PATH_INFO: pathInfo,
      REQUEST_URI: path,
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: String(apache().port),
      SERVER_SOFTWARE: expect.stringMatching(/^Apache\//),
      'tsgi.url_scheme': 'http',
    })
  })

  it('a custom status and reason phrase, and repeated fields, reach the client', async () => {
    const custom = await get(url(), '/custom')
    expect([custom.status, custom.reason, custom.body.toString()]).toEqual([299, 'Custom Thing', 'custom'])
    const reason = await get(url(), '/reason')
    expect([reason.status, reason.reason]).toEqual([200, 'Pretty Good'])
    const headers = await get(url(), '/headers')
    expect(headers.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2'])
  })

  it('HEAD: the head and no body (Apache drops the Content-Length)', async () => {
    const got = await get(url(), '/length', { method: 'HEAD' })
    expect([got.status, got.headers['content-type'], got.body.length]).toEqual([200, 'text/plain', 0])
  })

  // Apache watches only the backend while it relays: it notices the client gone when a write fails
  commonChecks(url, state, '/ticker')
})

describe.skipIf(skipHttpd)('Apache mod_proxy_fcgi → FastCGI over TCP', () => {
  const state = backend('tcp')
  const apache = frontEnd(() =>
    startApache({
      modules: APACHE_MODULES,
      config: () => {
        const to = `fcgi://127.0.0.1:${state.served!.port}/`
        // without proxy-fcgi-pathinfo: what Apache sends by itself
        return `${apacheAt('/app/', to)}<Location "/bare/">\n    ProxyPass "${to}"\n</Location>\n`
      },
    }),
  )

  it('without proxy-fcgi-pathinfo Apache sends the whole path as SCRIPT_NAME and no PATH_INFO', async () => {
    const env = await envAt(apache().url, '/bare/x%20y//z')
    // decoded, its slashes merged: the app finds itself mounted at the whole path
    expect([env.SCRIPT_NAME, env.PATH_INFO, env.REQUEST_URI]).toEqual(['/bare/x y/z', '', '/bare/x%20y//z'])
  })

  it('the app at /app: SCRIPT_NAME /app, PATH_INFO below it, a body both ways', async () => {
    const env = await envAt(apache().url, '/app/x%20y?z')
    expect([env.SCRIPT_NAME, env.PATH_INFO, env.REQUEST_URI, env.QUERY_STRING]).toEqual([
      '/app',
      '/x y',
      '/app/x%20y?z',
      'z',
    ])
    const body = bytes(300_000)
    const echoed = await get(apache().url, '/app/echo', { method: 'POST', body })
    expect(JSON.parse(echoed.body.toString())).toMatchObject({ bytes: body.length, sha256: sha256(body) })
    const big = await get(apache().url, '/app/big')
    expect(sha256(big.body)).toBe(sha256(bytes(1024 * 1024)))
  })
})

// ---------------------------------------------------------------------------------------------
// spawn-fcgi: the listening socket handed over on fd 0

const spawnFcgi = findBinary('spawn-fcgi', ['-v'])
const skipSpawn =
  skipWithout(
    'FastCGI under spawn-fcgi',
    spawnFcgi === undefined ? 'spawn-fcgi not found (Debian package spawn-fcgi)' : undefined,
  ) || skipWithout('FastCGI under spawn-fcgi', nginxFastcgiMissing)

describe.skipIf(skipSpawn).each([
  ['a unix socket (-s)', 'unix'],
  ['a TCP port (-a 127.0.0.1 -p)', 'tcp'],
] as const)('spawn-fcgi -n handing %s to node on fd 0, nginx in front', (_, transport) => {
  let child: ChildProcess
  let nginx: Nginx
  beforeAll(async () => {
    const socket = join(dir, 'spawned.sock')
    const port = transport === 'tcp' ? await freePort() : 0
    const where =
      transport === 'unix' ? ['-s', socket, '-M', '0600'] : ['-a', '127.0.0.1', '-p', String(port)]
    child = spawn(spawnFcgi!, ['-n', ...where, '--', ...fixtureCommand('--fd', '0')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    await fixtureReady(child)
    const target = transport === 'unix' ? `unix:${socket}` : `127.0.0.1:${port}`
    const params = nginxFastcgiParams
    nginx = await startNginx({
      http: nginxUpstream(target),
      extra: nginxRoot({ pass: 'tsgi_app', keepConn: true, params }) + nginxMounted({ pass: target, params }),
    })
  }, 20_000)
  afterAll(async () => {
    await nginx?.stop()
    await stopFixture(child)
  })

  it('the process spawn-fcgi execs serves on the socket it inherited as fd 0', async () => {
    const got = await get(nginx.url, '/listening')
    expect(got.status).toBe(200)
    expect(JSON.parse(got.body.toString())).toMatchObject({
      url: 'fastcgi+fd://0/',
      fd0IsSocket: true,
      // -n: spawn-fcgi execs the app in its own process
      pid: child.pid,
    })
  })

  it('requests reach the app, kept (fastcgi_keep_conn on) and not', async () => {
    // the fixture app answers its env at /env
    expect((await envAt(nginx.url, '/env?q')).QUERY_STRING).toBe('q')
    const mounted = await envAt(nginx.url, '/app/env')
    expect([mounted.SCRIPT_NAME, mounted.PATH_INFO]).toEqual(['/app', '/env'])
  })
})

// ---------------------------------------------------------------------------------------------
// docs/servers.md shows what is tested

describe('docs/servers.md: the FastCGI front-end configurations', () => {
  const docs = readFileSync(join(root, 'docs/servers.md'), 'utf8')
  it.each([
    ['nginx at the root', nginxRoot()],
    ['nginx at /app', nginxMounted()],
    ['nginx upstream with keepalive', nginxUpstream()],
    ['nginx streaming', nginxRoot({ pass: 'tsgi_app', keepConn: true, streaming: true })],
    ['lighttpd at the root', lighttpdRoot()],
    ['lighttpd at /app', lighttpdMounted()],
    ['Apache at the root', apacheAt('/')],
    ['Apache at /app', apacheAt('/app/')],
  ])('%s: the docs show the tested configuration verbatim', (_, text) => {
    expect(docs).toContain(text)
  })
})
