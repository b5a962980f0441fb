import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fileBody } from '../src/body.js'
import { isHeaderValue } from '../src/headers.js'
import { type ResponseCookie, TsgiResponse } from '../src/response.js'
import { requestEnv } from '../src/testing/index.js'

describe('TsgiResponse finalize', () => {
  it('wraps a string body in an array (Plack)', () => {
    const res = new TsgiResponse()
    res.status = 200
    res.body = 'hello'
    expect(res.finalize()).toEqual([200, [], ['hello']])
  })

  it.each([
    ['no body', undefined, []],
    ['a string', 'Hello World', ['Hello World']],
    ['bytes', new Uint8Array([1, 2]), [new Uint8Array([1, 2])]],
    ['an array', ['Hello', 'World'], ['Hello', 'World']],
  ])('body: %s', (_label, body, expected) => {
    expect(new TsgiResponse(200, [], body).finalize()[2]).toEqual(expected)
  })

  it('passes async iterables and file bodies through as they are', () => {
    const stream = (async function* () {
      yield 'x'
    })()
    const file = fileBody('/etc/hostname')
    expect(new TsgiResponse(200, [], stream).finalize()[2]).toBe(stream)
    expect(new TsgiResponse(200, [], file).finalize()[2]).toBe(file)
  })

  it.each([undefined, 0])('throws without a status (%s)', (status) => {
    expect(() => new TsgiResponse(status).finalize()).toThrow(/missing status/)
  })

  it('returns a copy of the headers', () => {
    const res = new TsgiResponse(200, ['X-A', '1'])
    const [, headers] = res.finalize()
    headers.push('X-B', '2')
    expect(res.headers).toEqual(['X-A', '1'])
  })

  it('does not strip CR/LF from header values: the server rejects them', () => {
    const res = new TsgiResponse(200, ['X-Bad', 'a\r\nSet-Cookie: x=1'])
    expect(res.finalize()[1]).toEqual(['X-Bad', 'a\r\nSet-Cookie: x=1'])
  })

  it('toApp answers with the finalized response', async () => {
    const app = new TsgiResponse(204, ['X-A', '1']).toApp()
    expect(await app(requestEnv())).toEqual([204, ['X-A', '1'], []])
  })
})

describe('TsgiResponse headers', () => {
  it.each([
    ['a flat list', ['Content-Type', 'text/plain', 'X-A', '1']],
    ['a record', { 'Content-Type': 'text/plain', 'X-A': ['1'] }],
    [
      'a web Headers',
      new globalThis.Headers([
        ['Content-Type', 'text/plain'],
        ['X-A', '1'],
      ]),
    ],
  ])('takes %s', (_label, init) => {
    const [, headers] = new TsgiResponse(200, init).finalize()
    expect(headers.map((h, i) => (i % 2 === 0 ? h.toLowerCase() : h))).toEqual([
      'content-type',
      'text/plain',
      'x-a',
      '1',
    ])
  })

  it('rejects an odd-length list', () => {
    expect(() => new TsgiResponse(200, ['X-A'])).toThrow(TypeError)
  })

  it('header gets and sets case-insensitively; pushHeader and removeHeader', () => {
    const res = new TsgiResponse(200)
    res.header('X-Foo', 'bar').pushHeader('x-foo', 'baz').pushHeader('Vary', 'Accept')
    expect(res.header('x-FOO')).toBe('bar')
    expect(res.headers).toEqual(['X-Foo', 'bar', 'x-foo', 'baz', 'Vary', 'Accept'])
    res.header('X-FOO', 'one')
    expect(res.headers).toEqual(['X-Foo', 'one', 'Vary', 'Accept'])
    res.removeHeader('vary')
    expect(res.headers).toEqual(['X-Foo', 'one'])
    expect(res.header('Vary')).toBeUndefined()
  })

  it.each([
    ['contentType', 'Content-Type', 'text/html; charset=utf-8', 'text/html; charset=utf-8'],
    ['contentLength', 'Content-Length', 123, '123'],
    ['contentEncoding', 'Content-Encoding', 'gzip', 'gzip'],
    ['location', 'Location', '/next?a=b c', '/next?a=b c'],
  ] as const)('%s sets %s', (prop, header, value, text) => {
    const res = new TsgiResponse(200)
    ;(res as unknown as Record<string, unknown>)[prop] = value
    expect(res.header(header)).toBe(text)
    expect(res[prop]).toBe(value)
    ;(res as unknown as Record<string, unknown>)[prop] = undefined
    expect(res.header(header)).toBeUndefined()
  })

  it('rejects a bad contentLength', () => {
    expect(() => {
      new TsgiResponse(200).contentLength = -1
    }).toThrow(TypeError)
  })

  it('code and content are aliases', () => {
    const res = new TsgiResponse()
    res.code = 404
    res.content = 'gone'
    expect(res.status).toBe(404)
    expect(res.finalize()).toEqual([404, [], ['gone']])
  })
})

describe('TsgiResponse redirect', () => {
  it.each<[string, number | undefined, number]>([
    ['http://www.google.com/', undefined, 302],
    ['/relative?x=1', 301, 301],
    ['http://example.com/ü', 303, 303],
  ])('redirect(%j, %s)', (location, given, status) => {
    const res = new TsgiResponse()
    expect(res.redirect(location, given)).toBe(res)
    expect(res.redirect()).toBe(location)
    expect(res.finalize()).toEqual([status, ['Location', location], []])
  })
})

describe('TsgiResponse cookies', () => {
  it('serializes each cookie as its own Set-Cookie, values percent-encoded', () => {
    const res = new TsgiResponse(200)
    res.cookies.t1 = { value: 'bar', domain: '.example.com', path: '/cgi-bin' }
    res.cookies.t2 = { value: 'xxx yyy', expires: new Date(Date.UTC(1999, 3, 25, 0, 40, 33)) }
    res.cookies.t3 = { value: '123123', maxAge: 15 }
    res.cookies.t4 = 'foo=bar&baz=qux'
    res.cookies.t5 = {
      value: 's',
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
      partitioned: true,
      priority: 'high',
      expires: 'Thu, 25 Apr 1999 00:40:33 GMT',
    }
    const [, headers] = res.finalize()
    expect(headers).toEqual([
      'Set-Cookie',
      't1=bar; Domain=.example.com; Path=/cgi-bin',
      'Set-Cookie',
      't2=xxx%20yyy; Expires=Sun, 25 Apr 1999 00:40:33 GMT',
      'Set-Cookie',
      't3=123123; Max-Age=15',
      'Set-Cookie',
      't4=foo%3Dbar%26baz%3Dqux',
      'Set-Cookie',
      't5=s; Expires=Sun, 25 Apr 1999 00:40:33 GMT; HttpOnly; Secure; Partitioned; Priority=High; SameSite=Lax',
    ])
  })

  it('keeps other headers before the cookies and can replace the cookie map', () => {
    const res = new TsgiResponse(200, ['Content-Type', 'text/plain'], 'hello')
    res.cookies = { a: '1' }
    expect(res.finalize()).toEqual([200, ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1'], ['hello']])
  })

  it.each([
    ['an invalid name', { 'bad name': 'x' }],
    ['an invalid expires', { a: { value: 'x', expires: 'not a date' } }],
  ])('throws on %s', (_label, cookies) => {
    const res = new TsgiResponse(200)
    res.cookies = cookies
    expect(() => res.finalize()).toThrow(TypeError)
  })
})

describe('TsgiResponse cookies: hostile names, values and attributes', () => {
  it.each<[string, Record<string, string | ResponseCookie>, RegExp]>([
    ['a ; in the name', { 'a;b': 'x' }, /cookie "a;b" cannot be set: .*name/],
    [
      'CR/LF in the name',
      { 'a\r\nSet-Cookie: evil': 'x' },
      /cookie "a\\r\\nSet-Cookie: evil" cannot be set: .*name/,
    ],
    ['= in the name', { 'a=b': 'x' }, /name/],
    ['an empty name', { '': 'x' }, /name/],
    ['a NUL in the name', { 'a\u0000': 'x' }, /name/],
    ['a non-ASCII name', { 'caf\u00e9': 'x' }, /name/],
    ['a ; in the path', { a: { value: 'x', path: '/; HttpOnly' } }, /path/],
    ['CR/LF in the path', { a: { value: 'x', path: '/\r\nX-Evil: 1' } }, /path/],
    ['a ; in the domain', { a: { value: 'x', domain: 'example.com; Secure' } }, /domain/],
    ['CR/LF in the domain', { a: { value: 'x', domain: 'example.com\r\n' } }, /domain/],
    ['a bad sameSite', { a: { value: 'x', sameSite: 'lax\r\nX: 1' as 'lax' } }, /sameSite/],
    ['a bad priority', { a: { value: 'x', priority: 'high; x' as 'high' } }, /priority/],
    ['a fractional maxAge', { a: { value: 'x', maxAge: 1.5 } }, /maxAge/],
    ['a NaN maxAge', { a: { value: 'x', maxAge: Number.NaN } }, /maxAge/],
    ['an invalid expires', { a: { value: 'x', expires: 'not a date' } }, /expires/],
  ])('refuses %s with a TypeError naming the cookie, and emits nothing', (_label, cookies, detail) => {
    const res = new TsgiResponse(200)
    res.cookies = cookies
    let error: unknown
    try {
      res.finalize()
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(TypeError)
    const message = (error as TypeError).message
    expect(message).toMatch(/^TsgiResponse: cookie "/)
    expect(message).toMatch(detail)
    expect(message).not.toMatch(/[\r\n]/)
  })

  it('percent-encodes ; , CR, LF, space and non-ASCII in values rather than emitting them', () => {
    const res = new TsgiResponse(200)
    res.cookies.a = 'x; Path=/evil\r\nSet-Cookie: y=1, é'
    res.cookies.b = { value: '"\u0000"' }
    const headers = res.finalize()[1]
    expect(headers).toEqual([
      'Set-Cookie',
      'a=x%3B%20Path%3D%2Fevil%0D%0ASet-Cookie%3A%20y%3D1%2C%20%C3%A9',
      'Set-Cookie',
      'b=%22%00%22',
    ])
    for (const value of headers) expect(value).not.toMatch(/[\r\n]/)
  })

  it('every Set-Cookie it emits is a valid header value with exactly the one cookie (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (name, value) => {
        const res = new TsgiResponse(200)
        res.cookies[name] = { value, path: '/', httpOnly: true }
        let headers: string[]
        try {
          headers = res.finalize()[1]
        } catch (err) {
          expect(err).toBeInstanceOf(TypeError)
          expect((err as Error).message).toMatch(/^TsgiResponse: cookie /)
          return
        }
        expect(headers).toHaveLength(2)
        const line = headers[1]!
        expect(isHeaderValue(line)).toBe(true)
        expect(line.startsWith(`${name}=`)).toBe(true)
        expect(line.slice(name.length + 1).split(';')[0]).toBe(encodeURIComponent(value))
        expect(line.split(';').length).toBe(3)
      }),
    )
  })
})

describe('TsgiResponse static helpers', () => {
  it.each([
    [TsgiResponse.json({ a: 1 }), 200, 'application/json; charset=utf-8', '{"a":1}'],
    [TsgiResponse.json([1], 201), 201, 'application/json; charset=utf-8', '[1]'],
    [TsgiResponse.text('hi', 404), 404, 'text/plain; charset=utf-8', 'hi'],
    [TsgiResponse.html('<p>', 200), 200, 'text/html; charset=utf-8', '<p>'],
  ])('%#', (res, status, type, body) => {
    expect(res.finalize()).toEqual([status, ['Content-Type', type], [body]])
  })
})
