import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { lint } from '../../middleware/lint.js'
import { fileBody } from '../../src/body.js'
import { type ErrorSink, requestEnv } from '../../src/testing/index.js'
import type { App, AppResult, Chunk, Delayed, Env, Head, Responder, Triple, Writer } from '../../src/types.js'

/**
 * A valid env for `GET /` (without the cleanup keys, which some cases add), with `overrides`
 * applied (an `undefined` value removes the key); its `tsgi.errors` keeps what is written.
 */
function makeEnv(overrides: Record<string, unknown> = {}): Env {
  return requestEnv({
    REMOTE_PORT: '50000',
    'tsgix.cleanup': undefined,
    'tsgix.cleanup.handlers': undefined,
    ...overrides,
  })
}

function logOf(env: Env): string[] {
  return (env['tsgi.errors'] as ErrorSink).messages
}

const ok: App = () => [200, ['Content-Type', 'text/plain'], ['OK']]

/** The message `fn` throws, or undefined. */
function thrown(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as Error).message
  }
  return undefined
}

/** Reads a body whole, as a server would, chunk by chunk. */
async function drain(body: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const out: Chunk[] = []
  for await (const chunk of body) out.push(chunk)
  return out
}

/** A responder that records what it is given and hands out a recording writer. */
function recorder() {
  const calls: (Triple | Head)[] = []
  const written: Chunk[] = []
  let closes = 0
  const writer: Writer = {
    write: async (chunk) => void written.push(chunk),
    close: async () => void closes++,
  }
  const respond = ((res: Triple | Head) => {
    calls.push(res)
    return res.length === 2 ? writer : undefined
  }) as Responder
  return { respond, calls, written, closes: () => closes }
}

/** Runs a delayed response through the Lint layer and returns the lint-wrapped delayed function. */
function delayedThroughLint(delayed: Delayed, options: Parameters<typeof lint>[0] = {}, env = makeEnv()) {
  const res = lint(options)(() => delayed)(env)
  expect(typeof res).toBe('function')
  return res as Delayed
}

describe('Lint options', () => {
  it('builds with no options, a name, or strict false', () => {
    expect(typeof lint()).toBe('function')
    expect(typeof lint({ name: 'outer' })).toBe('function')
    expect(typeof lint({ strict: false })).toBe('function')
  })

  it.each([
    [{ nmae: 'x' }, 'Lint: unknown option "nmae" (known: name, strict)'],
    [{ name: 5 }, 'Lint: option name must be a non-empty one-line string, got 5'],
    [{ name: '' }, 'Lint: option name must be a non-empty one-line string, got ""'],
    [{ name: 'a\nb' }, 'Lint: option name must be a non-empty one-line string, got "a\\nb"'],
    [{ strict: 'yes' }, 'Lint: option strict must be a boolean, got "yes"'],
    [null, 'Lint: options must be an object, got null'],
  ])('rejects %j', (options, message) => {
    expect(() => lint(options as never)).toThrow(TypeError)
    expect(thrown(() => lint(options as never))).toBe(message)
  })

  it('rejects a wrapped app that is not a function', () => {
    expect(() => lint()({} as App)).toThrow(
      new TypeError('Lint: the wrapped app must be a function, got an object'),
    )
  })
})

describe('Lint env checks', () => {
  const app = lint()(ok)

  it.each<[string, Record<string, unknown>]>([
    ['the base env', {}],
    ['a lower-case method', { REQUEST_METHOD: 'get' }],
    ['a mixed-case method', { REQUEST_METHOD: 'GeT' }],
    ['a custom token method', { REQUEST_METHOD: 'my-custom-method' }],
    ['a mounted app at its root', { SCRIPT_NAME: '/app', PATH_INFO: '' }],
    ['a mounted app below its root', { SCRIPT_NAME: '/app', PATH_INFO: '/x' }],
    ['HTTP/2', { SERVER_PROTOCOL: 'HTTP/2' }],
    ['HTTP/1.0', { SERVER_PROTOCOL: 'HTTP/1.0' }],
    ['https', { 'tsgi.url_scheme': 'https' }],
    ['a query and a body', { QUERY_STRING: 'a=1', CONTENT_LENGTH: '12', CONTENT_TYPE: 'text/plain' }],
    ['CONNECT to an authority', { REQUEST_METHOD: 'CONNECT', REQUEST_URI: 'example.com:443', PATH_INFO: '' }],
    ['CONNECT with the target in PATH_INFO', { REQUEST_METHOD: 'CONNECT', PATH_INFO: 'example.com:443' }],
    ['OPTIONS *', { REQUEST_METHOD: 'OPTIONS', REQUEST_URI: '*', PATH_INFO: '*' }],
    ['a node Readable as input', { 'tsgi.input': Readable.from([Buffer.from('x')]) }],
    [
      'every extension, well typed',
      {
        'tsgix.signal': new AbortController().signal,
        'tsgix.cleanup': true,
        'tsgix.cleanup.handlers': [() => {}],
        'tsgix.logger': () => {},
        'tsgix.input.buffered': false,
        'tsgix.early_hints': () => {},
        'tsgix.harakiri': false,
        'tsgix.reason_phrase': 'Fine',
        'tsgix.route.params': { id: '1' },
        REMOTE_USER: 'alice',
      },
    ],
  ])('accepts %s', async (_, overrides) => {
    const res = (await app(makeEnv(overrides))) as Triple
    expect(res[0]).toBe(200)
  })

  it.each<[Record<string, unknown>, string]>([
    [{ REQUEST_METHOD: undefined }, 'env.REQUEST_METHOD is missing'],
    [{ REQUEST_METHOD: '' }, 'env.REQUEST_METHOD must be a non-empty token (RFC 9110), got ""'],
    [{ REQUEST_METHOD: 'foo bar' }, 'env.REQUEST_METHOD must be a non-empty token (RFC 9110), got "foo bar"'],
    [{ REQUEST_METHOD: 7 }, 'env.REQUEST_METHOD must be a string, got 7'],
    [{ SCRIPT_NAME: undefined }, 'env.SCRIPT_NAME is missing'],
    [{ SCRIPT_NAME: '/' }, `env.SCRIPT_NAME must be '' or start with '/' (and not be '/'), got "/"`],
    [{ SCRIPT_NAME: 'app' }, `env.SCRIPT_NAME must be '' or start with '/' (and not be '/'), got "app"`],
    [{ PATH_INFO: undefined }, 'env.PATH_INFO is missing'],
    [{ PATH_INFO: 'foo' }, `env.PATH_INFO must be '' or start with '/', got "foo"`],
    [
      { PATH_INFO: '' },
      "env.SCRIPT_NAME and env.PATH_INFO are both '': one of them must be set (PATH_INFO is '/' for a request to '/')",
    ],
    [{ REQUEST_URI: undefined }, 'env.REQUEST_URI is missing'],
    [{ QUERY_STRING: undefined }, 'env.QUERY_STRING is missing'],
    [{ QUERY_STRING: null }, 'env.QUERY_STRING must be a string, got null'],
    [{ SERVER_NAME: '' }, 'env.SERVER_NAME must be a non-empty string, got ""'],
    [{ SERVER_PORT: undefined }, 'env.SERVER_PORT is missing'],
    [{ SERVER_PORT: 80 }, 'env.SERVER_PORT must be a string, got 80'],
    [{ SERVER_PORT: '' }, 'env.SERVER_PORT must be a non-empty string, got ""'],
    [{ SERVER_PROTOCOL: undefined }, 'env.SERVER_PROTOCOL is missing'],
    [{ SERVER_PROTOCOL: 'HTTP/x' }, `env.SERVER_PROTOCOL must be like 'HTTP/1.1', got "HTTP/x"`],
    [{ CONTENT_LENGTH: 12 }, 'env.CONTENT_LENGTH must be a string, got 12'],
    [{ CONTENT_LENGTH: '-1' }, 'env.CONTENT_LENGTH must be a string of digits, got "-1"'],
    [{ REMOTE_ADDR: null }, 'env.REMOTE_ADDR must be a string, got null'],
    [
      { HTTP_CONTENT_TYPE: 'text/plain' },
      'env.HTTP_CONTENT_TYPE must not exist (the header goes in CONTENT_TYPE)',
    ],
    [
      { HTTP_CONTENT_LENGTH: '3' },
      'env.HTTP_CONTENT_LENGTH must not exist (the header goes in CONTENT_LENGTH)',
    ],
    [{ HTTP_X_FOO: ['a', 'b'] }, 'env.HTTP_X_FOO must be a string, got an array of 2 elements'],
    [{ 'tsgi.version': undefined }, "env['tsgi.version'] is missing"],
    [{ 'tsgi.version': 2 }, "env['tsgi.version'] must be [1, 0], got 2"],
    [{ 'tsgi.version': [1, 1] }, "env['tsgi.version'] must be [1, 0], got an array of 2 elements"],
    [{ 'tsgi.url_scheme': 'ftp' }, `env['tsgi.url_scheme'] must be 'http' or 'https', got "ftp"`],
    [{ 'tsgi.input': undefined }, "env['tsgi.input'] is missing"],
    [{ 'tsgi.input': 'body' }, `env['tsgi.input'] must be an async iterable of Uint8Array, got "body"`],
    [{ 'tsgi.errors': undefined }, "env['tsgi.errors'] is missing"],
    [{ 'tsgi.errors': {} }, "env['tsgi.errors'] must be an object with a write() method, got an object"],
    [{ 'tsgi.multithread': undefined }, "env['tsgi.multithread'] is missing"],
    [{ 'tsgi.multiprocess': 0 }, "env['tsgi.multiprocess'] must be a boolean, got 0"],
    [{ 'tsgi.run_once': 'false' }, `env['tsgi.run_once'] must be a boolean, got "false"`],
    [{ 'tsgi.nonblocking': undefined }, "env['tsgi.nonblocking'] is missing"],
    [{ 'tsgi.streaming': 1 }, "env['tsgi.streaming'] must be a boolean, got 1"],
    [{ 'tsgix.signal': {} }, "env['tsgix.signal'] must be an AbortSignal, got an object"],
    [{ 'tsgix.cleanup': 'yes' }, `env['tsgix.cleanup'] must be a boolean, got "yes"`],
    [
      { 'tsgix.cleanup.handlers': {} },
      "env['tsgix.cleanup.handlers'] must be an array of functions, got an object",
    ],
    [
      { 'tsgix.cleanup.handlers': [1] },
      "env['tsgix.cleanup.handlers'] must be an array of functions, got an array of 1 element",
    ],
    [
      { 'tsgix.cleanup': true },
      "env['tsgix.cleanup.handlers'] is missing (required when tsgix.cleanup is true)",
    ],
    [{ 'tsgix.logger': {} }, "env['tsgix.logger'] must be a function, got an object"],
    [{ 'tsgix.input.buffered': 'no' }, `env['tsgix.input.buffered'] must be a boolean, got "no"`],
    [{ 'tsgix.early_hints': true }, "env['tsgix.early_hints'] must be a function, got true"],
    [{ 'tsgix.reason_phrase': 3 }, "env['tsgix.reason_phrase'] must be a string, got 3"],
    [
      { 'tsgix.route.params': ['a'] },
      "env['tsgix.route.params'] must be an object of parameters, got an array of 1 element",
    ],
  ])('rejects %j', (overrides, message) => {
    let called = false
    const app = lint()(() => {
      called = true
      return [200, [], []]
    })
    expect(() => app(makeEnv(overrides))).toThrow(Error)
    expect(thrown(() => app(makeEnv(overrides)))).toBe(`Lint: ${message}`)
    expect(called).toBe(false)
  })

  it('rejects an env that is not an object', () => {
    expect(thrown(() => app(null as unknown as Env))).toBe('Lint: env must be an object, got null')
  })

  it('names the layer and throws even when strict is false', () => {
    const named = lint({ name: 'after Session', strict: false })(ok)
    expect(thrown(() => named(makeEnv({ PATH_INFO: 'foo' })))).toBe(
      `Lint(after Session): env.PATH_INFO must be '' or start with '/', got "foo"`,
    )
  })

  it('catches an outer layer that breaks the env (Plack: SCRIPT_NAME set to "/")', () => {
    const inner = lint({ name: 'inner' })(ok)
    const breaking: App = (env) => inner({ ...env, SCRIPT_NAME: '/' })
    expect(thrown(() => breaking(makeEnv()))).toMatch(/^Lint\(inner\): env\.SCRIPT_NAME must be/)
  })
})

/** A FileBody path: Lint never reads the file. */
const FILE = '/srv/never-read.bin'

/** Bad heads and bodies shared by the triple, promise and respond() tables: [case, status, headers, body, problem]. */
const BAD_TRIPLES: [string, unknown, unknown, unknown, string][] = [
  ['status 0', 0, [], ['Hello'], 'invalid status 0: must be an integer from 100 to 999'],
  ['status 1000', 1000, [], [], 'invalid status 1000: must be an integer from 100 to 999'],
  ['status 200.5', 200.5, [], [], 'invalid status 200.5: must be an integer from 100 to 999'],
  ['status "200"', '200', [], [], 'invalid status "200": must be an integer from 100 to 999'],
  ['headers as an object', 200, {}, [], 'invalid headers: expected a flat array of strings, got object'],
  ['odd header list', 200, ['Foo'], ['Hello'], 'invalid headers: odd length 1 (a name without a value)'],
  ['a name with ":"', 200, ['Foo:', 'bar'], ['Hello'], 'invalid header name "Foo:": not an RFC 9110 token'],
  [
    'a name with LF',
    200,
    ['Foo\nBar', 'baz'],
    [''],
    'invalid header name "Foo\\nBar": not an RFC 9110 token',
  ],
  ['a name with a space', 200, ['X Foo', 'x'], [], 'invalid header name "X Foo": not an RFC 9110 token'],
  [
    'a value with LF',
    200,
    ['Location', 'Foo\nBar'],
    [],
    'invalid value for header "Location": contains CR, LF or NUL',
  ],
  ['a value with CR', 200, ['X-Foo', 'a\rb'], [], 'invalid value for header "X-Foo": contains CR, LF or NUL'],
  [
    'a value with NUL',
    200,
    ['X-Foo', 'a\0b'],
    [],
    'invalid value for header "X-Foo": contains CR, LF or NUL',
  ],
  [
    'an undefined value',
    200,
    ['X-Foo', undefined],
    ['Hi'],
    'invalid value for header "X-Foo": not a string (undefined)',
  ],
  [
    'a number value',
    200,
    ['Content-Length', 2],
    ['Hi'],
    'invalid value for header "Content-Length": not a string (number)',
  ],
  [
    'a Status header',
    200,
    ['Status', '201'],
    ['Hi'],
    'header "Status" is not allowed (the status is the first element)',
  ],
  [
    'an interim status as the final one',
    101,
    [],
    [],
    'status 101 is interim, not a final response (use tsgix.early_hints or tsgix.io)',
  ],
  [
    'a Content-Length that is not a number',
    200,
    ['Content-Length', 'ten'],
    ['Hi'],
    'header "Content-Length" must be a number of bytes, got "ten"',
  ],
  [
    'an array body longer than its Content-Length',
    200,
    ['Content-Length', '2'],
    ['Hello'],
    'body of 5 bytes does not match its Content-Length 2',
  ],
  [
    'a name ending in "-"',
    200,
    ['Foo-', 'bar'],
    ['Hello'],
    `header name "Foo-" must not end with '-' or '_'`,
  ],
  [
    'a name ending in "_"',
    200,
    ['Foo_', 'bar'],
    ['Hello'],
    `header name "Foo_" must not end with '-' or '_'`,
  ],
  [
    'a control character',
    200,
    ['foo', '\x11bar'],
    ['OK'],
    'value of header "foo" contains control character U+0011',
  ],
  ['DEL', 200, ['foo', 'a\x7f'], ['OK'], 'value of header "foo" contains control character U+007F'],
  [
    'a character above U+00FF',
    200,
    ['X-Name', 'caf\u1234'],
    ['OK'],
    'value of header "X-Name" contains U+1234: header values are bytes (encode it)',
  ],
  [
    'a string body',
    200,
    [],
    'Hello World',
    'body must be an array of chunks, an async iterable or a FileBody, got "Hello World"',
  ],
  [
    'an object body',
    200,
    [],
    {},
    'body must be an array of chunks, an async iterable or a FileBody, got an object',
  ],
  [
    'an undefined body',
    200,
    [],
    undefined,
    'body must be an array of chunks, an async iterable or a FileBody, got undefined',
  ],
  ['a number in an array body', 200, [], ['a', 42], 'body[1] must be a string or Uint8Array, got 42'],
  ['null in an array body', 200, [], [null], 'body[0] must be a string or Uint8Array, got null'],
  [
    'an ArrayBuffer in an array body',
    200,
    [],
    [new ArrayBuffer(2)],
    'body[0] must be a string or Uint8Array, got an ArrayBuffer',
  ],
  [
    'a negative FileBody start',
    200,
    [],
    fileBody(FILE, { start: -1 }),
    'FileBody start must be an integer >= 0, got -1',
  ],
  [
    'a fractional FileBody end',
    200,
    [],
    fileBody(FILE, { end: 1.5 }),
    'FileBody end must be an integer >= 0, got 1.5',
  ],
  [
    'an inverted FileBody range',
    200,
    [],
    fileBody(FILE, { start: 10, end: 2 }),
    'FileBody range is inverted (start 10, end 2)',
  ],
]

/** Good triples: [case, status, headers, body]. */
const GOOD_TRIPLES: [string, number, string[], unknown][] = [
  ['a plain response', 200, ['Content-Type', 'text/plain'], ['OK']],
  ['an empty body', 204, [], []],
  ['bytes and strings', 200, [], [Buffer.from('a'), new Uint8Array([98]), 'c']],
  ['a name starting with a digit (a valid token)', 200, ['0xyz', 'bar'], ['Hello']],
  ['HTAB and obs-text in a value', 200, ['X-Foo', 'a\tb\u00e9'], ['OK']],
  ['duplicate headers', 200, ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'], ['OK']],
  ['status 999', 999, [], []],
  ['a matching Content-Length', 200, ['Content-Length', '5'], ['He', 'llo']],
  ['a HEAD answer: Content-Length and no body', 200, ['Content-Length', '5'], []],
  ['a 304 with the length of the full body', 304, ['Content-Length', '5'], []],
  ['a FileBody', 200, [], fileBody(FILE)],
  ['a FileBody range', 206, [], fileBody(FILE, { start: 0, end: 0 })],
  ['an async generator', 200, [], (async function* () {})()],
  ['a node Readable', 200, [], Readable.from(['a'])],
  ['a web ReadableStream', 200, [], new ReadableStream()],
]

describe('Lint response checks: triples', () => {
  it.each(BAD_TRIPLES)('throws on %s', (_, status, headers, body, problem) => {
    const app = lint()(() => [status, headers, body] as Triple)
    expect(thrown(() => app(makeEnv()))).toBe(`Lint: response: ${problem}`)
  })

  it.each(BAD_TRIPLES)('rejects a promise of %s', async (_, status, headers, body, problem) => {
    const app = lint()(async () => [status, headers, body] as Triple)
    await expect(app(makeEnv())).rejects.toThrow(new Error(`Lint: response: ${problem}`))
  })

  it.each(BAD_TRIPLES)(
    'with strict false, logs %s and lets it through',
    (_, status, headers, body, problem) => {
      const triple = [status, headers, body] as Triple
      const env = makeEnv()
      const res = lint({ strict: false, name: 'x' })(() => triple)(env) as Triple
      expect(res[0]).toBe(status)
      expect(res[1]).toBe(headers)
      expect(logOf(env)).toEqual([`Lint(x): response: ${problem}\n`])
    },
  )

  it.each(GOOD_TRIPLES)('passes %s through unchanged, synchronously', (_, status, headers, body) => {
    const env = makeEnv()
    const res = lint()(() => [status, headers, body] as Triple)(env)
    expect(Array.isArray(res)).toBe(true)
    const triple = res as Triple
    expect(triple[0]).toBe(status)
    expect(triple[1]).toBe(headers)
    expect(logOf(env)).toEqual([])
  })

  it('returns an array-body triple itself (no copy)', () => {
    const triple: Triple = [200, [], ['OK']]
    expect(lint()(() => triple)(makeEnv())).toBe(triple)
  })

  it('keeps a promise a promise', async () => {
    const res = lint()(async () => [200, [], ['OK']] as Triple)(makeEnv())
    expect(res).toBeInstanceOf(Promise)
    expect(await res).toEqual([200, [], ['OK']])
  })

  it.each<[string, unknown, string]>([
    ['an object', {}, 'got an object'],
    ['undefined', undefined, 'got undefined'],
    ['a string', 'OK', 'got "OK"'],
  ])('throws when the app returns %s', (_, value, got) => {
    const app = lint()(() => value as AppResult)
    expect(thrown(() => app(makeEnv()))).toBe(
      `Lint: response must be a [status, headers, body] array, a function (a delayed response) or a promise of one, ${got}`,
    )
  })

  it.each<[unknown[], number]>([
    [[200, [], [], []], 4],
    [[200, []], 2],
  ])('throws on a response of the wrong length (%j)', (value, n) => {
    const app = lint()(() => value as Triple)
    expect(thrown(() => app(makeEnv()))).toBe(
      `Lint: response must have 3 elements [status, headers, body], got ${n}`,
    )
  })

  it('names the layer in response messages', () => {
    const app = lint({ name: 'after Session' })(() => [200, ['X-Foo', 'a\r\nb'], []])
    expect(thrown(() => app(makeEnv()))).toBe(
      'Lint(after Session): response: invalid value for header "X-Foo": contains CR, LF or NUL',
    )
  })
})

async function* chunks(items: unknown[], closed?: { done: boolean }): AsyncGenerator<Chunk> {
  try {
    for (const item of items) yield item as Chunk
  } finally {
    if (closed) closed.done = true
  }
}

describe('Lint response checks: streamed bodies', () => {
  it('passes good chunks through as they come', async () => {
    const res = lint()(() => [200, [], chunks(['a', Buffer.from('b')])])(makeEnv()) as Triple
    const out = await drain(res[2] as AsyncIterable<Chunk>)
    expect(out.map(String)).toEqual(['a', 'b'])
  })

  it('detects a bad chunk while streaming, after the earlier ones were read, and closes the source', async () => {
    const closed = { done: false }
    const res = lint({ name: 'inner' })(() => [200, [], chunks(['a', 42, 'never'], closed)])(
      makeEnv(),
    ) as Triple
    const it = (res[2] as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
    expect(await it.next()).toEqual({ done: false, value: 'a' })
    expect(closed.done).toBe(false)
    await expect(it.next()).rejects.toThrow(
      new Error('Lint(inner): response: streamed body chunk 1 must be a string or Uint8Array, got 42'),
    )
    expect(closed.done).toBe(true)
  })

  it('detects a bad chunk from a node Readable in object mode', async () => {
    const res = lint()(() => [200, [], Readable.from([{ x: 1 }])])(makeEnv()) as Triple
    await expect(drain(res[2] as AsyncIterable<Chunk>)).rejects.toThrow(
      'Lint: response: streamed body chunk 0 must be a string or Uint8Array, got an object',
    )
  })

  it('with strict false, logs a bad chunk and passes it through', async () => {
    const env = makeEnv()
    const res = lint({ strict: false })(() => [200, [], chunks(['a', null, 'b'])])(env) as Triple
    expect(await drain(res[2] as AsyncIterable<Chunk>)).toEqual(['a', null, 'b'])
    expect(logOf(env)).toEqual([
      'Lint: response: streamed body chunk 1 must be a string or Uint8Array, got null\n',
    ])
  })

  it('forwards return() so the source finally blocks run when the consumer stops early', async () => {
    const closed = { done: false }
    const res = lint()(() => [200, [], chunks(['a', 'b'], closed)])(makeEnv()) as Triple
    for await (const chunk of res[2] as AsyncIterable<Chunk>) {
      expect(chunk).toBe('a')
      break
    }
    expect(closed.done).toBe(true)
  })

  it('leaves a FileBody as it is, so servers can send the file directly', () => {
    const body = fileBody(FILE)
    const res = lint()(() => [200, [], body])(makeEnv()) as Triple
    expect(res[2]).toBe(body)
  })

  it('checks an object with a path but not made by fileBody() as an async iterable', async () => {
    const handMade = {
      path: FILE,
      start: -1,
      [Symbol.asyncIterator]: () => chunks(['a', 42])[Symbol.asyncIterator](),
    }
    const res = lint()(() => [200, [], handMade])(makeEnv()) as Triple
    expect(res[2]).not.toBe(handMade)
    await expect(drain(res[2] as AsyncIterable<Chunk>)).rejects.toThrow(
      'Lint: response: streamed body chunk 1 must be a string or Uint8Array, got 42',
    )
  })

  it('streams an fs.ReadStream through its chunk checks, as any stream', async () => {
    const stream = createReadStream(fileURLToPath(import.meta.url), { start: 0, end: 5 })
    const res = lint()(() => [200, [], stream])(makeEnv()) as Triple
    expect(res[2]).not.toBe(stream)
    expect(Buffer.concat((await drain(res[2] as AsyncIterable<Chunk>)) as Buffer[]).toString()).toBe('import')
  })
})

describe('Lint response checks: delayed responses and writers', () => {
  it('passes a good delayed triple and a good writer stream through', async () => {
    const rec = recorder()
    await delayedThroughLint((respond) => respond([200, ['Content-Type', 'text/plain'], ['x']]))(rec.respond)
    expect(rec.calls).toEqual([[200, ['Content-Type', 'text/plain'], ['x']]])

    const rec2 = recorder()
    await delayedThroughLint(async (respond) => {
      const w = respond([200, []])
      await w.write('a')
      await w.write(new Uint8Array([98]))
      await w.close()
    })(rec2.respond)
    expect(rec2.calls).toEqual([[200, []]])
    expect(rec2.written.map((c) => Buffer.from(c).toString())).toEqual(['a', 'b'])
    expect(rec2.closes()).toBe(1)
  })

  it.each(BAD_TRIPLES)('respond() throws on %s', (_, status, headers, body, problem) => {
    const rec = recorder()
    const delayed = delayedThroughLint((respond) => respond([status, headers, body] as Triple))
    expect(thrown(() => delayed(rec.respond))).toBe(`Lint: respond(): ${problem}`)
    expect(rec.calls).toEqual([])
  })

  it.each(BAD_TRIPLES.filter(([, , , , problem]) => !/^(body|FileBody)/.test(problem)))(
    'respond() with a head throws on %s',
    (_, status, headers, __, problem) => {
      const rec = recorder()
      const delayed = delayedThroughLint((respond) => void respond([status, headers] as Head))
      expect(thrown(() => delayed(rec.respond))).toBe(`Lint: respond(): ${problem}`)
      expect(rec.calls).toEqual([])
    },
  )

  it.each<[string, unknown]>([
    ['one element', [200]],
    ['four elements', [200, [], [], []]],
    ['an object', {}],
  ])('respond() throws when given %s', (_, value) => {
    const delayed = delayedThroughLint((respond) => void respond(value as Triple))
    expect(thrown(() => delayed(recorder().respond))).toMatch(
      /^Lint: respond\(\) must get \[status, headers\] or \[status, headers, body\], got /,
    )
  })

  it('throws when respond() is called twice', () => {
    const rec = recorder()
    const delayed = delayedThroughLint((respond) => {
      respond([200, [], ['a']])
      respond([200, [], ['b']])
    })
    expect(thrown(() => delayed(rec.respond))).toBe('Lint: respond() called a second time')
    expect(rec.calls).toHaveLength(1)
  })

  it('checks a streamed body given to respond() chunk by chunk', async () => {
    const rec = recorder()
    await delayedThroughLint((respond) => respond([200, [], chunks(['a', 1])]))(rec.respond)
    const body = (rec.calls[0] as Triple)[2] as AsyncIterable<Chunk>
    await expect(drain(body)).rejects.toThrow(
      'Lint: respond(): streamed body chunk 1 must be a string or Uint8Array, got 1',
    )
  })

  it('rejects a write after close() and does not forward it', async () => {
    const rec = recorder()
    let failure: unknown
    await delayedThroughLint(async (respond) => {
      const w = respond([200, []])
      await w.write('a')
      await w.close()
      await w.write('late').catch((err: unknown) => {
        failure = err
      })
    })(rec.respond)
    expect((failure as Error).message).toBe('Lint: writer.write() called after close()')
    expect(rec.written).toEqual(['a'])
  })

  it('rejects a bad chunk on the writer and does not forward it', async () => {
    const rec = recorder()
    const delayed = delayedThroughLint(async (respond) => {
      const w = respond([200, []])
      await w.write('a')
      await w.write({} as Chunk)
    })
    await expect(delayed(rec.respond)).rejects.toThrow(
      'Lint: writer.write() chunk 1 must be a string or Uint8Array, got an object',
    )
    expect(rec.written).toEqual(['a'])
  })

  it('rejects a second close()', async () => {
    const rec = recorder()
    const delayed = delayedThroughLint(async (respond) => {
      const w = respond([200, []])
      await w.close()
      await w.close()
    })
    await expect(delayed(rec.respond)).rejects.toThrow('Lint: writer.close() called a second time')
    expect(rec.closes()).toBe(1)
  })

  it('with strict false, logs every writer problem and forwards the calls', async () => {
    const env = makeEnv()
    const rec = recorder()
    await delayedThroughLint(
      async (respond) => {
        const w = respond([200, ['Bad-', 'x']])
        await w.write(5 as unknown as Chunk)
        await w.close()
        await w.write('late')
        await w.close()
        respond([200, [], []])
      },
      { strict: false },
      env,
    )(rec.respond)
    expect(logOf(env)).toEqual([
      `Lint: respond(): header name "Bad-" must not end with '-' or '_'\n`,
      'Lint: writer.write() chunk 0 must be a string or Uint8Array, got 5\n',
      'Lint: writer.write() called after close()\n',
      'Lint: writer.close() called a second time\n',
      'Lint: respond() called a second time\n',
    ])
    expect(rec.written).toEqual([5, 'late'])
    expect(rec.closes()).toBe(2)
    expect(rec.calls).toHaveLength(2)
  })

  it('checks a delayed response returned in a promise', async () => {
    const app = lint()(async () => (respond: Responder) => void respond([0, [], []]))
    const delayed = (await app(makeEnv())) as Delayed
    expect(thrown(() => delayed(recorder().respond))).toBe(
      'Lint: respond(): invalid status 0: must be an integer from 100 to 999',
    )
  })
})
