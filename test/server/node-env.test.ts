import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { mountedTarget, splitHost, targetPath } from '../../src/server/node-env.js'
import { decodePath } from '../../src/server/path.js'
import type { App, Env } from '../../src/types.js'
import { raw, rawConnect, rawExchange, start } from './node-helpers.js'

/** An app that answers with the env's string, number and boolean values as JSON. */
const echoEnv: App = (env) => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(env)) {
    if (typeof v === 'string' || typeof v === 'boolean' || Array.isArray(v)) out[k] = v
  }
  return [200, ['Content-Type', 'application/json'], [JSON.stringify(out)]]
}

async function envOf(port: number, head: string): Promise<Record<string, unknown>> {
  const text = await raw(port, `${head}\r\nConnection: close\r\n\r\n`)
  const body = text.slice(text.indexOf('\r\n\r\n') + 4)
  return JSON.parse(Buffer.from(body, 'latin1').toString('utf8')) as Record<string, unknown>
}

describe('node server env', () => {
  it.each([
    ['/', { PATH_INFO: '/', REQUEST_URI: '/', QUERY_STRING: '' }],
    ['/a%20b?x=1&y=%20', { PATH_INFO: '/a b', REQUEST_URI: '/a%20b?x=1&y=%20', QUERY_STRING: 'x=1&y=%20' }],
    ['/a%2Fb', { PATH_INFO: '/a/b', REQUEST_URI: '/a%2Fb', QUERY_STRING: '' }],
    ['/caf%C3%A9', { PATH_INFO: '/café', REQUEST_URI: '/caf%C3%A9', QUERY_STRING: '' }],
    ['/%2541', { PATH_INFO: '/%41', REQUEST_URI: '/%2541', QUERY_STRING: '' }],
    ['/p?', { PATH_INFO: '/p', REQUEST_URI: '/p?', QUERY_STRING: '' }],
    [
      'http://example.com/p/q?z',
      { PATH_INFO: '/p/q', REQUEST_URI: 'http://example.com/p/q?z', QUERY_STRING: 'z' },
    ],
  ])('target %s', async (target, expected) => {
    const { port } = await start(echoEnv)
    const env = await envOf(port, `GET ${target} HTTP/1.1\r\nHost: h`)
    expect(env).toMatchObject({ ...expected, SCRIPT_NAME: '' })
  })

  it.each([
    ['example.com:8080', 'example.com', '8080'],
    ['example.com', 'example.com', '80'],
    ['[::1]:9000', '[::1]', '9000'],
    ['[::1]', '[::1]', '80'],
  ])('Host %s gives SERVER_NAME %s and SERVER_PORT %s', async (host, name, port) => {
    const s = await start(echoEnv)
    const env = await envOf(s.port, `GET / HTTP/1.1\r\nHost: ${host}`)
    expect(env).toMatchObject({ SERVER_NAME: name, SERVER_PORT: port, HTTP_HOST: host })
  })

  it('takes SERVER_NAME and SERVER_PORT from the socket without a Host header', async () => {
    const { port } = await start(echoEnv)
    const env = await envOf(port, 'GET / HTTP/1.0')
    expect(env).toMatchObject({
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: String(port),
      SERVER_PROTOCOL: 'HTTP/1.0',
    })
    expect(env).not.toHaveProperty('HTTP_HOST')
  })

  it.each([
    ['duplicates joined with a comma', 'X-Foo: a\r\nX-Foo: b', { HTTP_X_FOO: 'a, b' }],
    ['cookies joined with a semicolon', 'Cookie: a=1\r\nCookie: b=2', { HTTP_COOKIE: 'a=1; b=2' }],
    ['dashes to underscores, upper case', 'x-Forwarded-PROTO: https', { HTTP_X_FORWARDED_PROTO: 'https' }],
    [
      'content headers without HTTP_',
      'Content-Type: text/plain\r\nContent-Length: 0',
      { CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '0' },
    ],
  ])('headers: %s', async (_name, headers, expected) => {
    const { port } = await start(echoEnv)
    const env = await envOf(port, `POST / HTTP/1.1\r\nHost: h\r\n${headers}`)
    expect(env).toMatchObject(expected)
    expect(env).not.toHaveProperty('HTTP_CONTENT_TYPE')
    expect(env).not.toHaveProperty('HTTP_CONTENT_LENGTH')
  })

  it('drops header names with an underscore so they cannot pose as dashed ones', async () => {
    const { port } = await start(echoEnv)
    const env = await envOf(
      port,
      'GET / HTTP/1.1\r\nHost: h\r\nX_Forwarded_For: 6.6.6.6\r\nX-Forwarded-For: 1.2.3.4',
    )
    expect(env.HTTP_X_FORWARDED_FOR).toBe('1.2.3.4')
  })

  it('has the fixed keys, values and order', async () => {
    let seen: Env | undefined
    const logger = () => {}
    const { port } = await start(
      (env) => {
        seen = env
        return echoEnv(env)
      },
      { logger },
    )
    const socket = await rawConnect(port)
    const clientPort = socket.localPort
    const text = await rawExchange(socket, 'GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n')
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/)
    const env = seen as Env
    expect(Object.keys(env).slice(0, 8)).toEqual([
      'REQUEST_METHOD',
      'SCRIPT_NAME',
      'PATH_INFO',
      'REQUEST_URI',
      'QUERY_STRING',
      'SERVER_NAME',
      'SERVER_PORT',
      'SERVER_PROTOCOL',
    ])
    expect(env).toMatchObject({
      REQUEST_METHOD: 'GET',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_PORT: String(clientPort),
      'tsgi.version': [1, 0],
      'tsgi.url_scheme': 'http',
      'tsgi.multithread': false,
      'tsgi.multiprocess': false,
      'tsgi.run_once': false,
      'tsgi.nonblocking': true,
      'tsgi.streaming': true,
      'tsgix.cleanup': true,
      'tsgix.cleanup.handlers': [],
      'tsgix.input.buffered': false,
    })
    expect(env['tsgix.signal']).toBeInstanceOf(AbortSignal)
    expect(env['tsgix.logger']).toBe(logger)
    expect(typeof env['tsgix.early_hints']).toBe('function')
    expect(typeof (env['tsgi.input'] as { pipe?: unknown }).pipe).toBe('function')
    expect(env['tsgi.errors']).toBeDefined()
  })

  it('tsgix.signal survives an env copy and can be replaced', async () => {
    let same = false
    let replaced: unknown
    const mine = new AbortController().signal
    const { url } = await start((env) => {
      const copy = { ...env }
      same = copy['tsgix.signal'] === env['tsgix.signal'] && env['tsgix.signal'] instanceof AbortSignal
      copy['tsgix.signal'] = mine
      env['tsgix.signal'] = mine
      replaced = env['tsgix.signal']
      return [200, [], ['ok']]
    })
    expect(await (await fetch(url)).text()).toBe('ok')
    expect(same).toBe(true)
    expect(replaced).toBe(mine)
  })

  it('sets tsgi.multiprocess from the option', async () => {
    const { port } = await start(echoEnv, { multiprocess: true })
    expect((await envOf(port, 'GET / HTTP/1.1\r\nHost: h'))['tsgi.multiprocess']).toBe(true)
  })

  it.each(['/%FF', '/%E0%A4%A', '/a%C3'])('answers 400 to a path that does not decode: %s', async (path) => {
    let called = false
    const { port } = await start(() => {
      called = true
      return [200, [], []]
    })
    const text = await raw(port, `GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`)
    expect(text).toMatch(/^HTTP\/1\.1 400 /)
    expect(called).toBe(false)
  })
})

describe('node env parsers', () => {
  it('decodePath inverts encodeURIComponent and never throws', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(decodePath(`/${encodeURIComponent(s)}`)).toBe(`/${s}`)
      }),
    )
    fc.assert(
      fc.property(fc.string(), (s) => {
        const out = decodePath(s)
        expect(out === undefined || typeof out === 'string').toBe(true)
      }),
    )
  })

  it('splitHost separates a port from names and bracketed IPv6 literals', () => {
    const name = fc.oneof(
      fc.domain(),
      fc.ipV4(),
      fc.ipV6().map((a) => `[${a}]`),
    )
    fc.assert(
      fc.property(name, fc.integer({ min: 1, max: 65535 }), (n, p) => {
        expect(splitHost(`${n}:${p}`)).toEqual([n, String(p)])
        expect(splitHost(n)).toEqual([n, ''])
      }),
    )
  })

  it('targetPath returns a path starting with / for origin and absolute forms', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true }), (url) => {
        const path = targetPath(url)
        expect(path.startsWith('/')).toBe(true)
        expect(path).not.toContain('?')
      }),
      { numRuns: 50 },
    )
  })

  it.each([
    ['/users?x=1', '/api/users?x=1', '/api', '/users', 'x=1'],
    ['/', '/api', '/api', '', ''],
    ['/', '/api/', '/api', '/', ''],
    ['/?q', '/api?q', '/api', '', 'q'],
    ['/x', '/x', '', '/x', ''],
  ])('mountedTarget(%s, %s)', (url, original, script, path, query) => {
    expect(mountedTarget(url, original)).toEqual({
      scriptName: script,
      pathInfo: path,
      requestUri: original,
      query,
    })
  })
})
