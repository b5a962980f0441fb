import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { envProblem } from '../../middleware/lint/env.js'
import { lint } from '../../middleware/lint.js'
import { ErrorSink, type RequestEnvInput, requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { App, AppResult, Chunk, Env } from '../../src/types.js'

async function text(env: Env): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const chunk of env['tsgi.input']) parts.push(chunk)
  return Buffer.concat(parts).toString()
}

async function* stream(...chunks: Chunk[]): AsyncGenerator<Chunk> {
  for (const chunk of chunks) yield chunk
}

describe('requestEnv', () => {
  it.each<[string, RequestEnvInput, string, RequestInit]>([
    ['a GET of /', {}, '/', {}],
    [
      'a POST with headers and a body',
      {
        method: 'POST',
        url: '/a%20b?x=1',
        headers: { 'Content-Type': 'text/plain', Accept: 'a', Cookie: 'c=1' },
        body: 'hé',
      },
      '/a%20b?x=1',
      { method: 'POST', headers: { 'Content-Type': 'text/plain', Accept: 'a', Cookie: 'c=1' }, body: 'hé' },
    ],
    ['an absolute URL', { url: 'https://example.com:8443/p?q' }, 'https://example.com:8443/p?q', {}],
  ])('gives for %s the env the in-process server gives', async (_, input, url, init) => {
    let served: Env | undefined
    const app: App = (env) => {
      served = { ...env }
      return [200, [], []]
    }
    await testApp(app, async (fetch) => void (await fetch(url, init)), { impl: 'MockHTTP' })
    // What only a server has, or what differs by nature: the streams and the signal.
    const own = new Set(['tsgi.input', 'tsgi.errors', 'tsgix.signal', 'tsgix.input.buffered'])
    const comparable = (env: Env | undefined) =>
      Object.fromEntries(Object.entries(env ?? {}).filter(([key]) => !own.has(key)))
    const env = requestEnv(input)
    expect(comparable(env)).toEqual(comparable(served))
    expect(envProblem(env)).toBeUndefined()
    expect(env['tsgi.errors']).toBeInstanceOf(ErrorSink)
  })

  it.each<[string, RequestEnvInput, Partial<Env>]>([
    [
      'a path with a query, taken byte for byte',
      { url: '/a%20b/../c?x=1&y=%20' },
      { PATH_INFO: '/a b/../c', REQUEST_URI: '/a%20b/../c?x=1&y=%20', QUERY_STRING: 'x=1&y=%20' },
    ],
    [
      'an absolute https URL with a port',
      { url: 'https://Example.com:8443/p?q' },
      {
        'tsgi.url_scheme': 'https',
        SERVER_NAME: 'Example.com',
        SERVER_PORT: '8443',
        HTTP_HOST: 'Example.com:8443',
        PATH_INFO: '/p',
        REQUEST_URI: '/p?q',
        QUERY_STRING: 'q',
      },
    ],
    [
      'an absolute URL without a path',
      { url: new URL('https://example.com?a=1') },
      { SERVER_PORT: '443', PATH_INFO: '/', REQUEST_URI: '/?a=1', QUERY_STRING: 'a=1' },
    ],
    ['a fragment, dropped', { url: '/x#frag' }, { PATH_INFO: '/x', REQUEST_URI: '/x' }],
    [
      'a Host header, which names the server',
      { url: 'http://a.example/', headers: { Host: 'b.example:81' } },
      { SERVER_NAME: 'b.example', SERVER_PORT: '81', HTTP_HOST: 'b.example:81' },
    ],
    [
      'an IPv6 host',
      { url: 'http://[::1]:8080/' },
      { SERVER_NAME: '[::1]', SERVER_PORT: '8080', HTTP_HOST: '[::1]:8080' },
    ],
    [
      'a script name',
      { url: '/app/x%2Fy', scriptName: '/app' },
      { SCRIPT_NAME: '/app', PATH_INFO: '/x/y', REQUEST_URI: '/app/x%2Fy' },
    ],
    ['the mount point itself', { url: '/app', scriptName: '/app' }, { SCRIPT_NAME: '/app', PATH_INFO: '' }],
    ['OPTIONS *', { method: 'OPTIONS', url: '*' }, { PATH_INFO: '*', REQUEST_URI: '*' }],
    [
      'CONNECT to an authority',
      { method: 'CONNECT', url: 'example.com:443' },
      { PATH_INFO: '', REQUEST_URI: 'example.com:443', QUERY_STRING: '' },
    ],
    [
      'headers as a flat list, duplicates joined',
      { headers: ['Accept', 'a', 'X-Y', '1', 'accept', 'b', 'Cookie', 'a=1', 'Cookie', 'b=2'] },
      { HTTP_ACCEPT: 'a, b', HTTP_X_Y: '1', HTTP_COOKIE: 'a=1; b=2' },
    ],
    [
      'headers as an object, Content-Type and Content-Length without HTTP_',
      { headers: { 'content-type': 'text/plain', 'Content-Length': '3', 'X-Many': ['1', '2'] } },
      { CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '3', HTTP_X_MANY: '1, 2' },
    ],
    [
      'env keys on top',
      { url: '/x', PATH_INFO: '/y', 'tsgi.streaming': false, 'tsgix.route.params': { a: '1' } },
      { PATH_INFO: '/y', REQUEST_URI: '/x', 'tsgi.streaming': false, 'tsgix.route.params': { a: '1' } },
    ],
  ])('takes %s', (_, input, expected) => {
    const env = requestEnv(input)
    expect(env).toMatchObject(expected)
    expect(envProblem(env)).toBeUndefined()
  })

  it('removes a key given as undefined', () => {
    const env = requestEnv({
      REMOTE_ADDR: undefined,
      'tsgix.cleanup': undefined,
      'tsgix.cleanup.handlers': undefined,
    })
    expect('REMOTE_ADDR' in env).toBe(false)
    expect('tsgix.cleanup' in env).toBe(false)
    expect('tsgix.cleanup.handlers' in env).toBe(false)
  })

  it.each<[string, RequestEnvInput['body'], string]>([
    ['text', 'café', 'café'],
    ['bytes', new Uint8Array([104, 105]), 'hi'],
    ['a list of chunks', ['a', new Uint8Array([98]), 'c'], 'abc'],
  ])('reads a body of %s through tsgi.input, with CONTENT_LENGTH', async (_, body, expected) => {
    const env = requestEnv({ method: 'POST', body })
    expect(env.CONTENT_LENGTH).toBe(String(Buffer.byteLength(expected)))
    expect(env.HTTP_TRANSFER_ENCODING).toBeUndefined()
    expect(await text(env)).toBe(expected)
    expect(await text(env)).toBe('') // read once, as a real request body
  })

  it('sends a streamed body chunked, each chunk as bytes', async () => {
    const env = requestEnv({ method: 'PUT', body: stream('a', new Uint8Array([98])) })
    expect(env.CONTENT_LENGTH).toBeUndefined()
    expect(env.HTTP_TRANSFER_ENCODING).toBe('chunked')
    const chunks: unknown[] = []
    for await (const chunk of env['tsgi.input']) chunks.push(chunk)
    expect(chunks).toEqual([new Uint8Array([97]), new Uint8Array([98])])
  })

  it('keeps a Content-Length header given with the body', () => {
    expect(requestEnv({ body: 'abc', headers: { 'Content-Length': '10' } }).CONTENT_LENGTH).toBe('10')
    expect(
      requestEnv({ body: stream('x'), headers: ['Content-Length', '1'] }).HTTP_TRANSFER_ENCODING,
    ).toBeUndefined()
  })

  it('collects tsgi.errors in an ErrorSink, or writes to the stream given', () => {
    const env = requestEnv()
    env['tsgi.errors'].write('a\n')
    env['tsgi.errors'].write('b\n')
    const sink = env['tsgi.errors'] as ErrorSink
    expect(sink.messages).toEqual(['a\n', 'b\n'])
    expect(sink.text()).toBe('a\nb\n')
    const errors = new ErrorSink()
    expect(requestEnv({ errors })['tsgi.errors']).toBe(errors)
  })

  it('sets tsgix.signal only when given', () => {
    const controller = new AbortController()
    expect('tsgix.signal' in requestEnv()).toBe(false)
    expect(requestEnv({ signal: controller.signal })['tsgix.signal']).toBe(controller.signal)
  })

  it('builds a new env, with its own input and handlers, on every call', () => {
    const a = requestEnv()
    const b = requestEnv()
    expect(a['tsgi.input']).not.toBe(b['tsgi.input'])
    expect(a['tsgix.cleanup.handlers']).not.toBe(b['tsgix.cleanup.handlers'])
    expect(a['tsgi.errors']).not.toBe(b['tsgi.errors'])
  })

  it.each<[RequestEnvInput, string]>([
    [{ metod: 'POST' }, "requestEnv: unknown option 'metod'"],
    [{ method: 'GE T' }, 'requestEnv: option method must be a token'],
    [{ url: 3 as unknown as string }, 'requestEnv: option url must be a string or a URL'],
    [{ scriptName: '/' }, "requestEnv: option scriptName must be '' or a path starting with '/' (not '/')"],
    [{ scriptName: 'app' }, "requestEnv: option scriptName must be '' or a path starting with '/' (not '/')"],
    [
      { url: '/other', scriptName: '/app' },
      "requestEnv: option scriptName must be the start of the URL's path (/other)",
    ],
    [
      { url: '/application', scriptName: '/app' },
      "requestEnv: option scriptName must be the start of the URL's path (/application)",
    ],
    [{ errors: {} as never }, 'requestEnv: option errors must be an object with a write() method'],
    [{ signal: 'x' as never }, 'requestEnv: option signal must be an AbortSignal'],
    [{ headers: ['A'] }, 'requestEnv: option headers must be a flat list of names and values'],
    [{ headers: { 'X-A': 'a\r\nb' } }, 'requestEnv: option headers must be valid header fields, got X-A'],
    [
      { headers: { 'bad name': 'x' } },
      'requestEnv: option headers must be valid header fields, got bad name',
    ],
    [
      { body: 3 as never },
      'requestEnv: option body must be a string, bytes, a list of chunks or an async iterable',
    ],
  ])('rejects %o with a TypeError', (input, message) => {
    expect(() => requestEnv(input)).toThrow(new TypeError(message))
  })

  it('passes Lint on the way into an app', async () => {
    const app = lint()((env) => [
      200,
      ['Content-Type', 'text/plain'],
      [`${env.REQUEST_METHOD} ${env.PATH_INFO}`],
    ])
    const env = requestEnv({
      method: 'POST',
      url: 'https://example.com/a?b',
      body: 'x',
      headers: { Accept: '*/*' },
    })
    expect(await runResponse(app(env))).toMatchObject({ status: 200, body: 'POST /a' })
  })

  it('gives a spec-valid env whose PATH_INFO is the decoded path, for any path and header value', () => {
    const segment = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 })
    const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/)
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 4 }), value, (segments, header) => {
        const path = `/${segments.join('/')}`
        const url = `/${segments.map(encodeURIComponent).join('/')}`
        const env = requestEnv({ url, headers: { 'X-Value': header } })
        expect(env.PATH_INFO).toBe(path)
        expect(env.REQUEST_URI).toBe(url)
        expect(env.HTTP_X_VALUE).toBe(header)
        expect(envProblem(env)).toBeUndefined()
      }),
    )
  })
})

describe('runResponse', () => {
  const head = ['Content-Type', 'text/plain']
  const forms: [string, AppResult | PromiseLike<AppResult>, boolean][] = [
    ['an array body', [200, [...head], ['he', new Uint8Array([108, 108]), 'o']], false],
    ['a promise', Promise.resolve([200, [...head], ['hello']]), false],
    ['an async-iterable body', [200, [...head], stream('hel', 'lo')], false],
    ['a delayed response with a triple', (respond) => respond([200, [...head], ['hello']]), false],
    [
      'a writer',
      async (respond) => {
        const writer = respond([200, [...head]])
        await writer.write('hel')
        await writer.write(new Uint8Array([108, 111]))
        await writer.close()
      },
      true,
    ],
  ]

  it.each(forms)('runs %s to the end', async (_, result, streamed) => {
    const out = await runResponse(result)
    expect(out).toMatchObject({ status: 200, headers: head, body: 'hello', streamed })
    expect(Buffer.from(out.bytes).toString()).toBe('hello')
    expect('raw' in out).toBe(!streamed)
  })

  it('keeps the raw body of a triple, and bytes that are not UTF-8', async () => {
    const body = [new Uint8Array([0xff, 0x00])]
    const out = await runResponse([200, [], body])
    expect(out.raw).toBe(body)
    expect([...out.bytes]).toEqual([0xff, 0x00])
  })

  it('runs a whole app through a middleware, called directly', async () => {
    const app: App = (env) => async (respond) => {
      const writer = respond([200, []])
      await writer.write(String(env.QUERY_STRING))
      await writer.close()
    }
    expect((await runResponse(lint()(app)(requestEnv({ url: '/?q=1' })))).body).toBe('q=1')
  })

  it.each<[string, () => AppResult | Promise<AppResult>]>([
    ['a rejected promise', async () => Promise.reject(new Error('boom'))],
    [
      'a delayed response that throws',
      () => () => {
        throw new Error('boom')
      },
    ],
    [
      'a body that fails',
      () => [
        200,
        [],
        (async function* () {
          yield 'a'
          throw new Error('boom')
        })(),
      ],
    ],
  ])('rejects on %s', async (_, app) => {
    await expect(runResponse(Promise.resolve().then(app))).rejects.toThrow('boom')
  })
})
