import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServeOptions, serve, toNodeListener } from '../../src/server/node.js'
import type { App } from '../../src/types.js'
import { raw, rawConnect, readUntil, start } from './node-helpers.js'

const close = 'Connection: close\r\n\r\n'
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-node-proto-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const hello: App = (env) => [200, ['Content-Type', 'text/plain'], [`hello ${env.PATH_INFO}`]]

describe('malformed requests', () => {
  it.each([
    ['a bad request line', 'GARBAGE\r\n\r\n', 400],
    ['a bad header line', 'GET / HTTP/1.1\r\nHost: h\r\nNo colon here\r\n\r\n', 400],
    ['a bad Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n', 400],
    [
      'conflicting Content-Lengths',
      'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx',
      400,
    ],
    ['an oversized head', `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(4000)}\r\n\r\n`, 431],
  ])('%s gets %i and the server keeps serving', async (_name, request, status) => {
    let calls = 0
    const { port, url } = await start(
      (env) => {
        calls++
        return hello(env)
      },
      { maxHeaderSize: 2048 },
    )
    const text = await raw(port, request)
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
    expect(text).toMatch(/Connection: close/)
    expect(calls).toBe(0)
    expect(await (await fetch(`${url}/still`)).text()).toBe('hello /still')
  })
})

describe('listening', () => {
  it('on a unix socket', async () => {
    const path = join(dir, 'tsgi.sock')
    const server = await serve(hello, { path })
    try {
      expect(server.url).toBe(`http+unix://${encodeURIComponent(path)}/`)
      expect(server.port).toBe(0)
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ socketPath: path, path: '/unix' }, (res) => {
          let text = ''
          res.on('data', (d: Buffer) => {
            text += d.toString()
          })
          res.on('end', () => resolve(text))
        })
        req.on('error', reject)
        req.end()
      })
      expect(body).toBe('hello /unix')
    } finally {
      await server.close()
    }
  })

  it('reports its url and port', async () => {
    const { server } = await start(hello)
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`)
    expect(server.server.listening).toBe(true)
  })

  it('on all interfaces when no host is given, with localhost in the url', async () => {
    const server = await serve(hello, { port: 0 })
    try {
      expect(server.url).toBe(`http://localhost:${server.port}/`)
      expect(await (await fetch(`http://127.0.0.1:${server.port}/any`)).text()).toBe('hello /any')
    } finally {
      await server.close()
    }
  })

  it('over https with a self-signed certificate', async (ctx) => {
    const keyFile = join(dir, 'key.pem')
    const certFile = join(dir, 'cert.pem')
    try {
      await promisify(execFile)('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ])
    } catch (err) {
      process.stdout.write(`skipping the https test: openssl is not usable here (${String(err)})\n`)
      ctx.skip()
      return
    }
    const tls = { key: await readFile(keyFile), cert: await readFile(certFile) }
    const { port, server } = await start(
      (env) => [200, [], [`${env['tsgi.url_scheme']} ${env.SERVER_PORT}`]],
      { tls },
    )
    expect(server.url).toBe(`https://127.0.0.1:${port}/`)
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        {
          port,
          host: '127.0.0.1',
          path: '/',
          ca: tls.cert,
          servername: 'localhost',
          headers: { host: `localhost:${port}` },
        },
        (res) => {
          let text = ''
          res.on('data', (d: Buffer) => {
            text += d.toString()
          })
          res.on('end', () => resolve(text))
        },
      )
      req.on('error', reject)
      req.end()
    })
    expect(body).toBe(`https ${port}`)
  })
})

describe('options', () => {
  it.each<[string, ServeOptions, RegExp]>([
    ['unknown key', { prot: 1 } as ServeOptions, /serve: unknown option 'prot'/],
    ['port out of range', { port: 70000 }, /serve: option 'port'/],
    ['port not an integer', { port: 1.5 }, /serve: option 'port'/],
    ['host empty', { host: '' }, /serve: option 'host'/],
    ['path with port', { path: '/tmp/x.sock', port: 1 }, /serve: option 'path'/],
    ['tls without cert', { tls: { key: 'k' } } as unknown as ServeOptions, /serve: option 'tls'/],
    ['negative shutdownTimeout', { shutdownTimeout: -1 }, /serve: option 'shutdownTimeout'/],
    ['maxHeaderSize zero', { maxHeaderSize: 0 }, /serve: option 'maxHeaderSize'/],
    ['errors without write', { errors: {} as never }, /serve: option 'errors'/],
    ['logger not a function', { logger: 'x' as never }, /serve: option 'logger'/],
    ['multiprocess not boolean', { multiprocess: 1 as never }, /serve: option 'multiprocess'/],
    ['requestTimeout NaN', { requestTimeout: Number.NaN }, /serve: option 'requestTimeout'/],
    ['keepAliveTimeout string', { keepAliveTimeout: '5' as never }, /serve: option 'keepAliveTimeout'/],
    ['headersTimeout negative', { headersTimeout: -5 }, /serve: option 'headersTimeout'/],
  ])('%s throws a TypeError at once', (_name, options, message) => {
    expect(() => serve(hello, options)).toThrow(TypeError)
    expect(() => serve(hello, options)).toThrow(message)
  })

  it('an app that is not a function throws', () => {
    expect(() => serve('app' as unknown as App)).toThrow(/serve: app must be a function/)
    expect(() => toNodeListener(null as unknown as App)).toThrow(/toNodeListener: app must be a function/)
    expect(() => toNodeListener(hello, { port: 1 } as never)).toThrow(/toNodeListener: unknown option 'port'/)
  })
})

describe('toNodeListener', () => {
  async function listen(
    listener: (req: IncomingMessage, res: ServerResponse) => void,
  ): Promise<[string, () => Promise<void>]> {
    const server = createServer(listener)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    return [
      `http://127.0.0.1:${port}`,
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        }),
    ]
  }

  it('runs an app in http.createServer', async () => {
    const [url, stop] = await listen(toNodeListener(hello))
    try {
      expect(await (await fetch(`${url}/plain`)).text()).toBe('hello /plain')
    } finally {
      await stop()
    }
  })

  it.each([
    [
      '/api',
      '/users?x=1',
      { SCRIPT_NAME: '/api', PATH_INFO: '/users', QUERY_STRING: 'x=1', REQUEST_URI: '/api/users?x=1' },
    ],
    ['/api', '/', { SCRIPT_NAME: '/api', PATH_INFO: '', QUERY_STRING: '', REQUEST_URI: '/api' }],
    [
      '/my%20app',
      '/a%20b',
      { SCRIPT_NAME: '/my app', PATH_INFO: '/a b', QUERY_STRING: '', REQUEST_URI: '/my%20app/a%20b' },
    ],
  ])('under an Express-style mount at %s (req.url %s)', async (mount, below, expected) => {
    const inner = toNodeListener((env) => [
      200,
      [],
      [
        JSON.stringify({
          SCRIPT_NAME: env.SCRIPT_NAME,
          PATH_INFO: env.PATH_INFO,
          QUERY_STRING: env.QUERY_STRING,
          REQUEST_URI: env.REQUEST_URI,
        }),
      ],
    ])
    // what Express does when it hands a request to a sub-app mounted at `mount`
    const [url, stop] = await listen((req, res) => {
      Object.assign(req, { originalUrl: req.url, url: below })
      inner(req, res)
    })
    try {
      const original = expected.REQUEST_URI
      expect(await (await fetch(`${url}${original}`)).json()).toEqual(expected)
      expect(mount).toBeTruthy()
    } finally {
      await stop()
    }
  })
})

describe('HTTP/1.x extras', () => {
  it('sends 103 Early Hints before the response', async () => {
    const { port } = await start((env) => {
      env['tsgix.early_hints']?.([
        'Link',
        '</style.css>; rel=preload; as=style',
        'Link',
        '</app.js>; rel=preload; as=script',
      ])
      return [200, [], ['final']]
    })
    const text = await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(text).toMatch(/^HTTP\/1\.1 103 Early Hints\r\n/)
    expect(text).toMatch(
      /Link: <\/style\.css>; rel=preload; as=style, <\/app\.js>; rel=preload; as=script\r\n/i,
    )
    expect(text.indexOf('HTTP/1.1 200')).toBeGreaterThan(0)
    expect(text).toMatch(/final$/)
  })

  it('rejects invalid early hints with a TypeError naming the header', async () => {
    let thrown: unknown
    const { url } = await start((env) => {
      try {
        env['tsgix.early_hints']?.(['Link', 'a\r\nb'])
      } catch (err) {
        thrown = err
      }
      return [200, [], ['ok']]
    })
    expect(await (await fetch(url)).text()).toBe('ok')
    expect(thrown).toBeInstanceOf(TypeError)
    expect(String(thrown)).toMatch(/Link/)
  })

  it('sends no early hints to an HTTP/1.0 client', async () => {
    const { port } = await start((env) => {
      env['tsgix.early_hints']?.(['Link', '</a.css>; rel=preload'])
      return [200, [], ['final']]
    })
    const text = await raw(port, 'GET / HTTP/1.0\r\n\r\n')
    expect(text).toMatch(/^HTTP\/1\.1 200 /)
    expect(text).not.toMatch(/103/)
  })

  it('uses tsgix.reason_phrase on the status line', async () => {
    const { port } = await start((env) => {
      env['tsgix.reason_phrase'] = 'Totally Fine'
      return [200, [], ['ok']]
    })
    expect(await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${close}`)).toMatch(
      /^HTTP\/1\.1 200 Totally Fine\r\n/,
    )
  })

  it('uses tsgix.reason_phrase for a writer response', async () => {
    const { port } = await start((env) => async (respond) => {
      env['tsgix.reason_phrase'] = 'Streaming Along'
      const w = respond([200, []])
      await w.close()
    })
    expect(await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${close}`)).toMatch(
      /^HTTP\/1\.1 200 Streaming Along\r\n/,
    )
  })
})

describe('CONNECT', () => {
  const tunnel: App = (env) => {
    if (env.REQUEST_URI !== 'allowed.example:443') return [403, ['X-Why', 'not allowed'], ['denied']]
    const socket = env['tsgix.io'] as Socket
    const head = env['tsgix.io.head'] as Buffer
    // echo the tunnel back, starting with any bytes that came with the head
    setImmediate(() => {
      if (head.length > 0) socket.write(head)
      socket.pipe(socket)
    })
    return [200, [], []]
  }

  it('a 2xx answer establishes the tunnel and leaves the socket to the app', async () => {
    const { port } = await start(tunnel)
    const socket = await rawConnect(port)
    socket.write('CONNECT allowed.example:443 HTTP/1.1\r\nHost: allowed.example:443\r\n\r\n')
    const head = await readUntil(socket, /\r\n\r\n/)
    expect(head).toBe('HTTP/1.1 200 Connection Established\r\n\r\n')
    socket.write('ping through the tunnel')
    expect(await readUntil(socket, /ping through the tunnel/)).toBe('ping through the tunnel')
    socket.destroy()
  })

  it('gives the app the method, target and raw socket', async () => {
    let seen: Record<string, unknown> = {}
    const { port } = await start((env) => {
      seen = {
        method: env.REQUEST_METHOD,
        uri: env.REQUEST_URI,
        path: env.PATH_INFO,
        io: typeof (env['tsgix.io'] as Socket).write,
      }
      return [405, [], ['no']]
    })
    await raw(port, 'CONNECT other.example:443 HTTP/1.1\r\nHost: other.example:443\r\n\r\n')
    expect(seen).toEqual({ method: 'CONNECT', uri: 'other.example:443', path: '', io: 'function' })
  })

  it('any other answer is written and the socket closed', async () => {
    const { port } = await start(tunnel)
    const text = await raw(port, 'CONNECT denied.example:443 HTTP/1.1\r\nHost: denied.example:443\r\n\r\n')
    expect(text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/)
    expect(text).toMatch(/X-Why: not allowed\r\n/)
    expect(text).toMatch(/Content-Length: 6\r\nConnection: close\r\n\r\ndenied$/)
  })

  it('an invalid or failing answer gives a raw 500', async () => {
    const { port, errors } = await start((env) => {
      if (env.REQUEST_URI === 'throw:1') throw new Error('connect boom')
      return [200, ['Bad\nName', 'x'], []]
    })
    expect(await raw(port, 'CONNECT bad:1 HTTP/1.1\r\nHost: bad:1\r\n\r\n')).toMatch(/^HTTP\/1\.1 500 /)
    expect(await raw(port, 'CONNECT throw:1 HTTP/1.1\r\nHost: throw:1\r\n\r\n')).toMatch(/^HTTP\/1\.1 500 /)
    expect(errors.text).toMatch(/Bad\\nName/)
    expect(errors.text).toMatch(/connect boom/)
  })
})
