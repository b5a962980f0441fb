import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HttpError } from '../src/http-error.js'
import { TsgiRequest } from '../src/request.js'
import { TsgiResponse } from '../src/response.js'
import { requestEnv } from '../src/testing/index.js'

describe('TsgiRequest accessors', () => {
  const logger = () => {}
  const session = { user: 'ann' }
  const env = requestEnv({
    REQUEST_METHOD: 'PUT',
    SCRIPT_NAME: '/app',
    PATH_INFO: '/a b',
    REQUEST_URI: '/app/a%20b?x=1',
    QUERY_STRING: 'x=1',
    SERVER_NAME: 'srv.local',
    SERVER_PORT: '8080',
    SERVER_PROTOCOL: 'HTTP/1.0',
    REMOTE_ADDR: '10.0.0.1',
    REMOTE_HOST: 'client.local',
    REMOTE_USER: 'bob',
    CONTENT_TYPE: 'text/plain; charset=utf-8',
    CONTENT_LENGTH: '12',
    HTTP_HOST: 'example.com:8080',
    HTTP_CONTENT_ENCODING: 'gzip',
    HTTP_REFERER: 'http://ref/',
    HTTP_USER_AGENT: 'ua/1',
    HTTP_X_FORWARDED_FOR: '1.1.1.1, 2.2.2.2',
    'tsgi.url_scheme': 'https',
    'tsgix.session': session,
    'tsgix.session.options': { id: 'abc' },
    'tsgix.logger': logger,
  })
  const req = new TsgiRequest(env)

  it.each([
    ['address', '10.0.0.1'],
    ['remoteHost', 'client.local'],
    ['protocol', 'HTTP/1.0'],
    ['method', 'PUT'],
    ['port', 8080],
    ['host', 'example.com:8080'],
    ['user', 'bob'],
    ['requestUri', '/app/a%20b?x=1'],
    ['pathInfo', '/a b'],
    ['path', '/a b'],
    ['queryString', 'x=1'],
    ['scriptName', '/app'],
    ['scheme', 'https'],
    ['secure', true],
    ['contentLength', 12],
    ['contentType', 'text/plain; charset=utf-8'],
    ['contentEncoding', 'gzip'],
    ['referer', 'http://ref/'],
    ['userAgent', 'ua/1'],
    ['sessionOptions', { id: 'abc' }],
  ] as const)('%s', (name, value) => {
    expect(req[name]).toEqual(value)
  })

  it('returns env, input, session and logger by identity', () => {
    expect(req.env).toBe(env)
    expect(req.body).toBe(env['tsgi.input'])
    expect(req.input).toBe(env['tsgi.input'])
    expect(req.session).toBe(session)
    expect(req.logger).toBe(logger)
  })

  it.each([
    [{}, '/', 'localhost', undefined, false],
    [{ PATH_INFO: '' }, '/', 'localhost', undefined, false],
    [{ SERVER_NAME: 'srv', HTTP_HOST: '' }, '/', 'srv', undefined, false],
    [{ SERVER_PORT: '' }, '/', 'localhost', undefined, false],
  ])('defaults for %j', (extra, path, host, remoteHost, secure) => {
    const r = new TsgiRequest(requestEnv({ HTTP_HOST: undefined, ...extra }))
    expect(r.path).toBe(path)
    expect(r.host).toBe(host)
    expect(r.remoteHost).toBe(remoteHost)
    expect(r.secure).toBe(secure)
    expect(r.session).toBeUndefined()
    expect(r.contentLength).toBeUndefined()
  })

  it.each([
    ['X-Forwarded-For', '1.1.1.1, 2.2.2.2'],
    ['x-forwarded-for', '1.1.1.1, 2.2.2.2'],
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['content-length', '12'],
    ['Host', 'example.com:8080'],
    ['X-Missing', undefined],
  ])('header(%s)', (name, value) => {
    expect(req.header(name)).toBe(value)
  })

  it('headers is a web Headers object of HTTP_* and CONTENT_* keys', () => {
    const headers = req.headers
    expect(headers).toBeInstanceOf(globalThis.Headers)
    expect(headers.get('x-forwarded-for')).toBe('1.1.1.1, 2.2.2.2')
    expect(headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(headers.get('content-length')).toBe('12')
    expect(headers.get('user-agent')).toBe('ua/1')
    expect(headers.has('remote-addr')).toBe(false)
    expect(req.headers).toBe(headers)
  })

  it('headers skips keys no header could carry', () => {
    const r = new TsgiRequest(
      requestEnv({ HTTP_HOST: undefined, 'HTTP_BAD NAME': 'x', HTTP_OK: 'fine', HTTP_NUM: 3 }),
    )
    expect([...r.headers]).toEqual([['ok', 'fine']])
  })

  it('rejects a missing env and bad options', () => {
    expect(() => new TsgiRequest(undefined as never)).toThrow(TypeError)
    expect(() => new TsgiRequest(requestEnv(), { maxBodySize: -1 })).toThrow(/maxBodySize/)
    expect(() => new TsgiRequest(requestEnv(), { maxFiles: 1.5 })).toThrow(/maxFiles/)
    expect(() => new TsgiRequest(requestEnv(), { maxBodysize: 1 } as never)).toThrow(
      /unknown option maxBodysize/,
    )
  })

  it('newResponse builds a TsgiResponse', () => {
    const res = req.newResponse(201, ['X-A', '1'], 'made')
    expect(res).toBeInstanceOf(TsgiResponse)
    expect(res.finalize()).toEqual([201, ['X-A', '1'], ['made']])
  })
})

describe('TsgiRequest cookies', () => {
  it.each([
    ['Foo=Bar; Bar=Baz', { Foo: 'Bar', Bar: 'Baz' }],
    ['a=1; a=2', { a: '1' }],
    ['enc=a%20b%3Dc', { enc: 'a b=c' }],
    ['bad=%E0%A4%A', { bad: '%E0%A4%A' }],
    ['quoted="v"', { quoted: '"v"' }],
    [' spaced = v ;x=y', { spaced: 'v', x: 'y' }],
    ['novalue; =empty; ;;; k=v', { k: 'v' }],
    ['', {}],
  ])('%j', (header, cookies) => {
    const r = new TsgiRequest(requestEnv({ HTTP_COOKIE: header }))
    expect({ ...r.cookies }).toMatchObject(cookies)
    if (Object.keys(cookies).length === 0) expect(Object.keys(r.cookies)).toEqual([])
  })

  it('never throws on a malformed Cookie header', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (header) => {
        const cookies = new TsgiRequest(requestEnv({ HTTP_COOKIE: header })).cookies
        for (const value of Object.values(cookies)) expect(typeof value).toBe('string')
      }),
      { numRuns: 300 },
    )
  })

  it('returns {} without a Cookie header', () => {
    expect(Object.keys(new TsgiRequest(requestEnv()).cookies)).toEqual([])
  })

  it('caches the parse in env and re-parses when HTTP_COOKIE changes', () => {
    const env = requestEnv({ HTTP_COOKIE: 'a=1' })
    const first = new TsgiRequest(env).cookies
    expect(new TsgiRequest(env).cookies).toBe(first)
    env.HTTP_COOKIE = 'a=2'
    expect(new TsgiRequest(env).cookies.a).toBe('2')
  })
})

describe('TsgiRequest query parameters', () => {
  it('parses repeated keys, + and escapes; get is the last value', () => {
    const r = new TsgiRequest(requestEnv({ QUERY_STRING: 'a=1&b=x+y&a=%32;c' }))
    const q = r.queryParameters
    expect(q.get('a')).toBe('2')
    expect(q.getAll('a')).toEqual(['1', '2'])
    expect(q.get('b')).toBe('x y')
    expect(q.get('c')).toBe('')
    expect(q.toObject()).toEqual(Object.assign(Object.create(null), { a: '2', b: 'x y', c: '' }))
    expect(q.toMixed()).toEqual(Object.assign(Object.create(null), { a: ['1', '2'], b: 'x y', c: '' }))
  })

  it('is cached in env and writable, like Plack', () => {
    const env = requestEnv({ QUERY_STRING: 'foo=bar' })
    new TsgiRequest(env).queryParameters.set('foo', 'query-updated')
    expect(new TsgiRequest(env).queryParameters.get('foo')).toBe('query-updated')
  })

  it('param and parameters merge query and body on a GET', async () => {
    const r = new TsgiRequest(requestEnv({ QUERY_STRING: 'a=1&b=2&a=3' }))
    expect(await r.param('a')).toBe('3')
    expect(await r.param()).toEqual(['a', 'b'])
    expect((await r.parameters()).getAll('a')).toEqual(['1', '3'])
    expect((await r.bodyParameters()).size).toBe(0)
    expect(await r.upload()).toEqual([])
  })
})

describe('TsgiRequest uri and baseUri', () => {
  it.each<[Record<string, unknown>, string, string | null]>([
    [{ HTTP_HOST: 'example.com' }, 'http://example.com/', 'http://example.com/'],
    [
      { HTTP_HOST: 'example.com', PATH_INFO: '/foo bar' },
      'http://example.com/foo%20bar',
      'http://example.com/',
    ],
    [{ HTTP_HOST: 'example.com', SCRIPT_NAME: '/test.c', PATH_INFO: '' }, 'http://example.com/test.c', null],
    [
      { HTTP_HOST: 'example.com', SCRIPT_NAME: '/test.c', PATH_INFO: '/info' },
      'http://example.com/test.c/info',
      'http://example.com/test.c',
    ],
    [
      { HTTP_HOST: 'example.com', SCRIPT_NAME: '/test', PATH_INFO: '', QUERY_STRING: 'dynamic=daikuma' },
      'http://example.com/test?dynamic=daikuma',
      null,
    ],
    [
      { HTTP_HOST: 'example.com', SCRIPT_NAME: '/exec/', PATH_INFO: '' },
      'http://example.com/exec/',
      'http://example.com/exec/',
    ],
    [{ SERVER_NAME: 'example.com' }, 'http://example.com/', null],
    [
      { SERVER_NAME: 'example.com', SERVER_PORT: '8080' },
      'http://example.com:8080/',
      'http://example.com:8080/',
    ],
    [{ HTTP_HOST: 'example.com', QUERY_STRING: 'aco=tie' }, 'http://example.com/?aco=tie', null],
    [{ HTTP_HOST: 'example.com', QUERY_STRING: '0' }, 'http://example.com/?0', null],
    [
      { HTTP_HOST: 'example.com', SCRIPT_NAME: '/foo bar', PATH_INFO: '/baz quux' },
      'http://example.com/foo%20bar/baz%20quux',
      'http://example.com/foo%20bar',
    ],
    [
      { HTTP_HOST: 'localhost', PATH_INFO: '/foo.bar-baz', QUERY_STRING: 'a=b' },
      'http://localhost/foo.bar-baz?a=b',
      null,
    ],
    [
      { HTTP_HOST: 'localhost', PATH_INFO: '/#foo', QUERY_STRING: 'a=b' },
      'http://localhost/%23foo?a=b',
      null,
    ],
    [{ HTTP_HOST: 'localhost', PATH_INFO: '/a?b' }, 'http://localhost/a%3Fb', null],
    [{ HTTP_HOST: 'localhost', PATH_INFO: '/a%2Fb\\c' }, 'http://localhost/a%252Fb%5Cc', null],
    [{ HTTP_HOST: 'localhost', PATH_INFO: "/;:@&=$_.+!*'(),-" }, "http://localhost/;:@&=$_.+!*'(),-", null],
    [{ HTTP_HOST: 'localhost', PATH_INFO: '/ünï' }, 'http://localhost/%C3%BCn%C3%AF', null],
    [{ HTTP_HOST: 'localhost', PATH_INFO: '//evil.example/x' }, 'http://localhost//evil.example/x', null],
    [{ HTTP_HOST: 'localhost', QUERY_STRING: 'a#b' }, 'http://localhost/?a%23b', null],
    [{ HTTP_HOST: 'EXAMPLE.com:80' }, 'http://example.com/', 'http://example.com/'],
    [
      { HTTP_HOST: 'example.com:443', 'tsgi.url_scheme': 'https' },
      'https://example.com/',
      'https://example.com/',
    ],
    [{ HTTP_HOST: '[::1]:3000' }, 'http://[::1]:3000/', null],
    [
      { HTTP_HOST: 'foobar.com', SERVER_NAME: 'example.com', SERVER_PORT: '8080' },
      'http://foobar.com/',
      'http://foobar.com/',
    ],
  ])('%j', (extra, uri, base) => {
    // No Host header unless the case gives one.
    const r = new TsgiRequest(requestEnv({ HTTP_HOST: undefined, ...extra }))
    expect(r.uri().href).toBe(uri)
    if (base !== null) expect(r.baseUri().href).toBe(base)
    expect(r.uri()).not.toBe(r.uri())
  })

  it.each(['evil.com@good.com', 'a b', 'x/y', 'h#frag', 'h\\x'])(
    'a bad Host header %j is HttpError 400',
    (host) => {
      const r = new TsgiRequest(requestEnv({ HTTP_HOST: host }))
      expect(() => r.uri()).toThrow(HttpError)
      try {
        r.baseUri()
      } catch (err) {
        expect((err as HttpError).status).toBe(400)
      }
    },
  )
})

describe('TsgiRequest content negotiation', () => {
  it.each([
    ['text/html;q=0.5, application/json', ['text/html', 'application/json'], 'application/json'],
    ['text/html;q=0.5, application/json', ['html', 'json'], 'json'],
    ['text/*', ['application/json', 'text/plain'], 'text/plain'],
    ['image/png', ['text/html'], undefined],
    [undefined, ['text/html', 'application/json'], 'text/html'],
    ['*/*', ['nosuchext'], undefined],
  ])('accepts with Accept %j', (accept, offers, best) => {
    const extra = accept === undefined ? {} : { HTTP_ACCEPT: accept }
    expect(new TsgiRequest(requestEnv(extra)).accepts(offers)).toBe(best)
  })

  it('negotiates encodings, languages and charsets', () => {
    const r = new TsgiRequest(
      requestEnv({
        HTTP_ACCEPT_ENCODING: 'gzip, br;q=0.9',
        HTTP_ACCEPT_LANGUAGE: 'de-DE, en;q=0.5',
        HTTP_ACCEPT_CHARSET: 'iso-8859-1;q=0.2, utf-8',
      }),
    )
    expect(r.acceptsEncodings(['br', 'gzip'])).toBe('gzip')
    expect(r.acceptsEncodings(['deflate'])).toBeUndefined()
    expect(r.acceptsLanguages(['en', 'de-DE'])).toBe('de-DE')
    expect(r.acceptsLanguages(['fr'])).toBeUndefined()
    expect(r.acceptsCharsets(['iso-8859-1', 'utf-8'])).toBe('utf-8')
  })
})
