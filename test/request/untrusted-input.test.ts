/**
 * TsgiRequest against hostile input: keys that would pollute prototypes in query strings,
 * urlencoded and multipart bodies, cookies and JSON; deeply nested JSON within the size limit;
 * upload file names that try to name directories.
 */
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { HttpError } from '../../src/http-error.js'
import { MultiMap } from '../../src/request/multi-map.js'
import { parseFormEncoded } from '../../src/request/query.js'
import { TsgiUpload } from '../../src/request/upload.js'
import { TsgiRequest } from '../../src/request.js'
import { requestEnv } from '../../src/testing/index.js'

const POLLUTERS = [
  '__proto__=x',
  '__proto__[polluted]=1',
  'constructor=y',
  'constructor[prototype][polluted]=1',
  'constructor.prototype.polluted=1',
  'prototype=z',
  'hasOwnProperty=1',
  'toString=2',
].join('&')

/** An own property's value, read without the `__proto__` accessor. */
const own = (obj: object, key: string): unknown => Object.getOwnPropertyDescriptor(obj, key)?.value

function assertUnpolluted(): void {
  const probe: Record<string, unknown> = {}
  expect(probe.polluted).toBeUndefined()
  expect(Object.prototype).not.toHaveProperty('polluted')
  expect(typeof probe.hasOwnProperty).toBe('function')
  expect(typeof probe.toString).toBe('function')
}

afterEach(() => {
  delete (Object.prototype as Record<string, unknown>).polluted
})

function bodyEnv(type: string, body: string | Buffer) {
  const bytes = Buffer.from(body)
  return requestEnv({
    REQUEST_METHOD: 'POST',
    CONTENT_TYPE: type,
    CONTENT_LENGTH: String(bytes.length),
    'tsgi.input': Readable.from([bytes]),
  })
}

describe('prototype pollution', () => {
  it('query keys such as __proto__ and constructor are plain keys of a null-prototype object', async () => {
    const req = new TsgiRequest(requestEnv({ QUERY_STRING: POLLUTERS }))
    const params = await req.parameters()
    const obj = params.toObject()
    expect(Object.getPrototypeOf(obj)).toBeNull()
    expect(Object.hasOwn(obj, '__proto__')).toBe(true)
    expect(own(obj, '__proto__')).toBe('x')
    expect(obj.constructor).toBe('y')
    expect(obj['constructor[prototype][polluted]']).toBe('1')
    expect(Object.getPrototypeOf(params.toMixed())).toBeNull()
    expect(params.get('hasOwnProperty')).toBe('1')
    expect(await req.param('toString')).toBe('2')
    assertUnpolluted()
  })

  it('urlencoded and multipart body keys pollute nothing', async () => {
    const form = new TsgiRequest(bodyEnv('application/x-www-form-urlencoded', POLLUTERS))
    expect(own((await form.bodyParameters()).toObject(), '__proto__')).toBe('x')
    const boundary = 'b0undary'
    const multipart =
      `--${boundary}\r\nContent-Disposition: form-data; name="__proto__"\r\n\r\nx\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="constructor"\r\n\r\ny\r\n--${boundary}--\r\n`
    const mp = new TsgiRequest(bodyEnv(`multipart/form-data; boundary=${boundary}`, multipart))
    const fields = (await mp.bodyParameters()).toObject()
    expect(Object.hasOwn(fields, '__proto__')).toBe(true)
    expect(fields.constructor).toBe('y')
    assertUnpolluted()
  })

  it('cookies named __proto__ or constructor are plain keys of a null-prototype object', () => {
    const req = new TsgiRequest(requestEnv({ HTTP_COOKIE: '__proto__=x; constructor=y; polluted=z' }))
    const cookies = req.cookies
    expect(Object.getPrototypeOf(cookies)).toBeNull()
    expect(Object.hasOwn(cookies, '__proto__')).toBe(true)
    expect(cookies.constructor).toBe('y')
    assertUnpolluted()
  })

  it('json() keeps "__proto__" as an own property and changes no prototype', async () => {
    const req = new TsgiRequest(
      bodyEnv('application/json', '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}'),
    )
    const value = (await req.json()) as Record<string, unknown>
    expect(Object.hasOwn(value, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect((value as { polluted?: unknown }).polluted).toBeUndefined()
    assertUnpolluted()
  })

  it('no form-encoded text makes MultiMap.toObject differ from its keys, or pollute (property)', () => {
    const key = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', '__defineGetter__', 'valueOf'),
      fc.string(),
    )
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.string())), fc.string(), (pairs, raw) => {
        const text = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
        for (const source of [text, raw, `${raw}&${text}`]) {
          const map = parseFormEncoded(source)
          const obj = map.toObject()
          expect(Object.getPrototypeOf(obj)).toBeNull()
          expect(Object.keys(obj).sort()).toEqual([...map.keys()].sort())
          for (const k of map.keys()) expect(obj[k]).toBe(map.get(k))
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      }),
    )
  })

  it('MultiMap built from any pairs round-trips __proto__ as data', () => {
    const m = new MultiMap([
      ['__proto__', '1'],
      ['__proto__', '2'],
    ])
    expect(own(m.toMixed(), '__proto__')).toEqual(['1', '2'])
    expect(own(m.toObject(), '__proto__')).toBe('2')
  })
})

describe('JSON within the size limit', () => {
  it('deeply nested JSON parses (no stack overflow) or is a 400; past maxBodySize it is 413', async () => {
    const depth = 200_000
    const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`
    const ok = new TsgiRequest(bodyEnv('application/json', nested))
    expect(Array.isArray(await ok.json())).toBe(true)
    const broken = new TsgiRequest(bodyEnv('application/json', `${'['.repeat(depth)}`))
    await expect(broken.json()).rejects.toBeInstanceOf(HttpError)
    const big = new TsgiRequest(bodyEnv('application/json', nested), { maxBodySize: depth })
    const err = await big.json().catch((e: unknown) => e)
    expect((err as HttpError).status).toBe(413)
  })
})

describe('upload file names', () => {
  const upload = (filename: string) =>
    new TsgiUpload({
      fieldName: 'f',
      filename,
      contentType: 'text/plain',
      size: 0,
      path: '/tmp/x',
      headers: [],
    })

  it.each([
    ['../../etc/passwd', 'passwd', 'passwd'],
    ['..\\..\\windows\\win.ini', 'win.ini', 'win.ini'],
    ['..', '..', '_'],
    ['.', '.', '_'],
    ['dir/', '', '_'],
    ['', '', '_'],
    ['a/..', '..', '_'],
    ['...', '...', '...'],
    ['.htaccess', '.htaccess', '.htaccess'],
    ['x\u0000y.txt', 'x\u0000y.txt', 'x_y.txt'],
    ['é<script>.html', 'é<script>.html', '_script_.html'],
  ])('%j: rawBasename %j, basename %j', (filename, raw, safe) => {
    expect(upload(filename).rawBasename).toBe(raw)
    expect(upload(filename).basename).toBe(safe)
  })

  it('basename is never empty, "." or "..", and never holds a separator (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (name) => {
        const base = upload(name).basename
        expect(base).not.toBe('')
        expect(base).not.toBe('.')
        expect(base).not.toBe('..')
        expect(base).toMatch(/^[\w.-]+$/)
      }),
    )
  })
})
