/**
 * Streaming probes run over every middleware that sees a response: endless bodies are read one
 * chunk at a time and closed through the middleware, bodies closed unread are freed, every body
 * form (array, generator, node Readable, web ReadableStream, writer awaited or not, a delayed
 * response answering later, a promise of one) gives the same bytes, a wrapped writer keeps
 * backpressure, and text is decoded across chunk boundaries.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import zlib, { gunzipSync } from 'node:zlib'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { accessLog } from '../../middleware/access-log.js'
import { accessLogTimed } from '../../middleware/access-log-timed.js'
import { bufferedStreaming } from '../../middleware/buffered-streaming.js'
import { chunked } from '../../middleware/chunked.js'
import { conditionalGet } from '../../middleware/conditional-get.js'
import { contentLength } from '../../middleware/content-length.js'
import { contentMd5 } from '../../middleware/content-md5.js'
import { deflater } from '../../middleware/deflater.js'
import { errorDocument } from '../../middleware/error-document.js'
import { etag } from '../../middleware/etag.js'
import { head } from '../../middleware/head.js'
import { httpExceptions } from '../../middleware/http-exceptions.js'
import { jsonp } from '../../middleware/jsonp.js'
import { rearrangeHeaders } from '../../middleware/rearrange-headers.js'
import { recursive } from '../../middleware/recursive.js'
import { runtime } from '../../middleware/runtime.js'
import { simpleContentFilter } from '../../middleware/simple-content-filter.js'
import { stackTrace } from '../../middleware/stack-trace.js'
import { xFramework } from '../../middleware/x-framework.js'
import { xSendfile } from '../../middleware/x-sendfile.js'
import { cascade } from '../../src/app/cascade.js'
import { urlMap } from '../../src/app/url-map.js'
import { discardBody } from '../../src/body.js'
import { headerGet } from '../../src/headers.js'
import { type RequestEnvInput, requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type {
  App,
  AppResult,
  Body,
  Chunk,
  Delayed,
  Head,
  HeaderList,
  Middleware,
  Responder,
  Triple,
  Writer,
} from '../../src/types.js'

const dir = mkdtempSync(join(tmpdir(), 'tsgi-streaming-'))
const page = join(dir, '404.html')
writeFileSync(page, 'not here\n')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Case {
  readonly mw: Middleware
  readonly type?: string
  readonly env?: RequestEnvInput
  readonly decode?: (bytes: Uint8Array) => string
}

const quiet = { logger: () => {} }
const CASES: Record<string, Case> = {
  AccessLog: { mw: accessLog(quiet) },
  'AccessLog::Timed': { mw: accessLogTimed(quiet) },
  BufferedStreaming: { mw: bufferedStreaming() },
  'BufferedStreaming, force': { mw: bufferedStreaming({ force: true }) },
  Chunked: { mw: chunked() },
  ConditionalGET: { mw: conditionalGet(), env: { headers: { 'If-None-Match': '"other"' } } },
  ContentLength: { mw: contentLength() },
  ContentMD5: { mw: contentMd5() },
  Deflater: {
    mw: deflater({ threshold: 0 }),
    type: 'text/event-stream',
    env: { headers: { 'Accept-Encoding': 'gzip' } },
    decode: (b) => gunzipSync(b).toString(),
  },
  ErrorDocument: { mw: errorDocument({ 404: page }) },
  ETag: { mw: etag() },
  Head: { mw: head() },
  HTTPExceptions: { mw: httpExceptions() },
  JSONP: { mw: jsonp(), type: 'application/json', env: { url: '/?callback=cb' } },
  RearrangeHeaders: { mw: rearrangeHeaders() },
  Recursive: { mw: recursive() },
  Runtime: { mw: runtime() },
  SimpleContentFilter: { mw: simpleContentFilter({ filter: (t) => t.toUpperCase() }) },
  StackTrace: { mw: stackTrace({ force: true, noPrintErrors: true }) },
  XFramework: { mw: xFramework({ framework: 'x' }) },
  XSendfile: { mw: xSendfile({ variation: 'X-Sendfile' }) },
  Cascade: { mw: (app) => cascade([() => [404, [], ['no']], app]) },
  URLMap: { mw: (app) => urlMap({ '/': app }) },
}
const NAMES = Object.keys(CASES)

const headersOf = (c: Case): HeaderList => ['Content-Type', c.type ?? 'text/plain']
const envOf = (c: Case) => requestEnv(c.env ?? {})
const decode = (c: Case, bytes: Uint8Array) => (c.decode ? c.decode(bytes) : Buffer.from(bytes).toString())
const nextTurn = () => new Promise<void>((r) => setImmediate(r))

/** A web ReadableStream of `chunks`, pulled one at a time. */
function webStream(chunks: readonly Chunk[]): ReadableStream<Chunk> {
  let i = 0
  return new ReadableStream<Chunk>(
    {
      pull(controller) {
        const chunk = chunks[i++]
        if (chunk === undefined) controller.close()
        else controller.enqueue(chunk)
      },
    },
    { highWaterMark: 0 },
  )
}

/** An endless body that counts what was pulled and notes when its `finally` ran. */
function endless() {
  const probe = { pulled: 0, closed: false }
  const body = (async function* endlessBody() {
    try {
      for (;;) {
        probe.pulled++
        yield `chunk ${probe.pulled}\n`
      }
    } finally {
      probe.closed = true
    }
  })()
  return { probe, body }
}

/** The triple a middleware made of `body`, whatever form it answers in. */
async function tripleOf(c: Case, body: Body): Promise<Triple> {
  const res = await c.mw(() => [200, headersOf(c), body])(envOf(c))
  if (typeof res !== 'function') return res
  return new Promise<Triple>((resolve, reject) => {
    const respond = ((r: Triple | Head) => {
      if (r.length >= 3) resolve(r as Triple)
      else reject(new Error('unexpected writer'))
      return undefined
    }) as Responder
    Promise.resolve(res(respond)).catch(reject)
  })
}

describe.each(NAMES)('%s', (name) => {
  const c = CASES[name]!

  it('reads an endless body one chunk at a time and passes return() through', async () => {
    const { probe, body } = endless()
    const triple = await tripleOf(c, body)
    const it = (triple[2] as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
    for (let i = 0; i < 3; i++) expect((await it.next()).done).toBe(false)
    expect(probe.pulled).toBeLessThanOrEqual(4)
    await it.return?.()
    expect(probe.closed).toBe(true)
  })

  it('frees a node Readable body closed unread, as a server does for HEAD', async () => {
    const inner = new Readable({ read() {} })
    const triple = await tripleOf(c, inner)
    await discardBody(triple[2])
    expect(inner.destroyed).toBe(true)
  })

  const chunks: Chunk[] = ['one ', new TextEncoder().encode('two '), 'three']
  const forms: [string, () => AppResult | PromiseLike<AppResult>][] = [
    ['a generator', () => [200, headersOf(c), Readable.from(chunks)]],
    ['a node Readable', () => [200, headersOf(c), Readable.from(chunks.map((x) => Buffer.from(x)))]],
    ['a web ReadableStream', () => [200, headersOf(c), webStream(chunks)]],
    [
      'a writer, awaited',
      () => async (respond) => {
        const w = respond([200, headersOf(c)])
        for (const x of chunks) await w.write(x)
        await w.close()
      },
    ],
    [
      'a writer, not awaited',
      () => (respond) => {
        const w = respond([200, headersOf(c)])
        for (const x of chunks) void w.write(x)
        void w.close()
      },
    ],
    [
      'a delayed response answering after a turn',
      () => (respond) => {
        setImmediate(() => {
          const w = respond([200, headersOf(c)])
          for (const x of chunks) void w.write(x)
          void w.close()
        })
      },
    ],
    [
      'a promise of a delayed triple answering after a turn',
      async () => (respond: Responder) => {
        setImmediate(() => respond([200, headersOf(c), [...chunks]]))
      },
    ],
  ]

  it.each(forms)('gives the bytes of an array body with %s', async (_form, make) => {
    const reference = await runResponse(c.mw(() => [200, headersOf(c), [...chunks]])(envOf(c)))
    const out = await runResponse(c.mw(make)(envOf(c)))
    expect(out.status).toBe(reference.status)
    expect(decode(c, out.bytes)).toBe(decode(c, reference.bytes))
  })

  it.each([204, 304])('leaves a %i response without a body', async (status) => {
    const out = await runResponse(c.mw(() => [status, [], []])(envOf(c)))
    expect(out.status).toBe(status)
    expect(out.body).toBe('')
  })

  // BufferedStreaming with force buffers by design: backpressure does not apply to it.
  if (name !== 'BufferedStreaming, force') {
    it.skipIf(name === 'BufferedStreaming, force')('keeps backpressure on a writer', async () => {
      const gates: (() => void)[] = []
      const respond = ((r: Triple | Head) =>
        r.length >= 3
          ? undefined
          : ({
              write: () => new Promise<void>((resolve) => gates.push(resolve)),
              close: async () => {},
            } satisfies Writer)) as Responder
      let writer: Writer | undefined
      const res = await c.mw(() => (r: Responder) => {
        writer = r([200, headersOf(c)])
      })(envOf(c))
      void Promise.resolve((res as Delayed)(respond)).catch(() => {})
      while (writer === undefined) await nextTurn()
      let done = false
      const written = writer.write('data: x\n\n').then(() => {
        done = true
      })
      while (gates.length === 0) await nextTurn()
      await nextTurn()
      expect(done).toBe(false)
      gates[0]!()
      await written
      expect(done).toBe(true)
    })
  }
})

describe('text split across chunks', () => {
  const e = new TextEncoder().encode('é€') // c3 a9 e2 82 ac
  const split: Chunk[] = [e.subarray(0, 1), e.subarray(1, 3), e.subarray(3)]
  const bom: Chunk[] = [new Uint8Array([0xef, 0xbb]), new Uint8Array([0xbf, 0x61])]

  it.each(['iterable', 'writer'])('SimpleContentFilter decodes UTF-8 across chunks (%s)', async (form) => {
    const mw = simpleContentFilter({ filter: (t) => t.toUpperCase() })
    const app: App = () =>
      form === 'iterable'
        ? [200, ['Content-Type', 'text/plain'], Readable.from(split.map((x) => Buffer.from(x as Uint8Array)))]
        : async (respond) => {
            const w = respond([200, ['Content-Type', 'text/plain']])
            for (const x of split) await w.write(x)
            await w.close()
          }
    expect((await runResponse(mw(app)(requestEnv()))).body).toBe('É€')
  })

  it('SimpleContentFilter keeps a byte order mark', async () => {
    const mw = simpleContentFilter({ filter: (t) => t })
    const out = await runResponse(mw(() => [200, ['Content-Type', 'text/plain'], bom])(requestEnv()))
    expect([...out.bytes]).toEqual([0xef, 0xbb, 0xbf, 0x61])
  })

  it('JSONP passes split bytes through whole', async () => {
    const mw = jsonp()
    const out = await runResponse(
      mw(() => [200, ['Content-Type', 'application/json'], webStream(split)])(
        requestEnv({ url: '/?callback=cb' }),
      ),
    )
    expect(out.body).toBe('/**/cb(é€)')
  })

  it('ErrorDocument keeps split bytes of a subrequest document whole', async () => {
    const app: App = (env) =>
      env.PATH_INFO === '/doc'
        ? async (respond) => {
            const w = respond([200, ['Content-Type', 'text/plain; charset=utf-8']])
            for (const x of split) await w.write(x)
            await w.close()
          }
        : async (respond) => {
            const w = respond([404, ['Content-Type', 'text/plain']])
            await w.write('missing')
            await w.close()
          }
    const mw = errorDocument({ 404: '/doc', subrequest: true })
    expect((await runResponse(mw(app)(requestEnv({ url: '/x' })))).body).toBe('é€')
  })
})

describe('bodies replaced or skipped are freed', () => {
  const withReadable = (status: number) => {
    const inner = new Readable({ read() {} })
    return { inner, app: (() => [status, ['Content-Type', 'text/plain'], inner]) as App }
  }

  it('ErrorDocument frees the body it replaces', async () => {
    const { inner, app } = withReadable(404)
    const out = await runResponse(errorDocument({ 404: page })(app)(requestEnv()))
    expect(out.body).toBe('not here\n')
    expect(inner.destroyed).toBe(true)
  })

  it('StackTrace with force frees the body it replaces', async () => {
    const { inner, app } = withReadable(500)
    const recorded: App = (env) => {
      env['tsgix.stacktrace.error'] = new Error('recorded')
      return app(env)
    }
    const out = await runResponse(stackTrace({ force: true, noPrintErrors: true })(recorded)(requestEnv()))
    expect(out.status).toBe(500)
    expect(inner.destroyed).toBe(true)
  })

  it('Cascade frees the body of a skipped response', async () => {
    const { inner, app } = withReadable(404)
    const out = await runResponse(cascade([app, () => [200, [], ['ok']]])(requestEnv()))
    expect(out.body).toBe('ok')
    expect(inner.destroyed).toBe(true)
  })

  it('ConditionalGET frees the body of a 304', async () => {
    const inner = new Readable({ read() {} })
    const app: App = () => [200, ['ETag', '"a"'], inner]
    const out = await runResponse(conditionalGet()(app)(requestEnv({ headers: { 'If-None-Match': '"a"' } })))
    expect(out.status).toBe(304)
    expect(inner.destroyed).toBe(true)
  })

  it('Head frees the body of a HEAD response', async () => {
    const inner = new Readable({ read() {} })
    const out = await runResponse(head()(() => [200, [], inner])(requestEnv({ method: 'HEAD' })))
    expect(out.body).toBe('')
    expect(inner.destroyed).toBe(true)
  })
})

describe('failures mid-stream reach the server', () => {
  const failing = simpleContentFilter({
    filter: (t) => {
      if (t.includes('bad')) throw new Error('filter broke')
      return t
    },
  })
  const apps: [string, App][] = [
    ['an iterable body', () => [200, ['Content-Type', 'text/plain'], Readable.from(['ok ', 'bad', 'never'])]],
    [
      'a writer whose writes are not awaited',
      () => (respond) => {
        setImmediate(() => {
          const w = respond([200, ['Content-Type', 'text/plain']])
          void w.write('ok ')
          void w.write('bad')
          void w.write('never')
          void w.close()
        })
      },
    ],
  ]
  it.each(apps)('with %s', async (_name, app) => {
    await testApp(
      failing(app),
      async (fetch, { errors }) => {
        const res = await fetch('/')
        await expect(res.text()).rejects.toThrow()
        expect(errors()).toContain('filter broke')
      },
      { impl: 'Server' },
    )
  })
})

describe('URLMap restores the env', () => {
  it.each([
    [
      'throws',
      (): void => {
        throw new Error('inner failed')
      },
    ],
    [
      'rejects',
      async (): Promise<void> => {
        throw new Error('inner failed')
      },
    ],
  ])('when a delayed response %s before responding', async (_name, fail) => {
    const env = requestEnv({ url: '/app/x' })
    const res = urlMap({ '/app': () => () => fail() })(env)
    const delayed = (await res) as Delayed
    await expect(
      Promise.resolve().then(() => delayed((() => undefined) as unknown as Responder)),
    ).rejects.toThrow('inner failed')
    expect([env.SCRIPT_NAME, env.PATH_INFO]).toEqual(['', '/app/x'])
  })
})

describe('Deflater', () => {
  it('makes no compressor for a body that is never read (HEAD through Head)', async () => {
    const spy = vi.spyOn(zlib, 'createGzip')
    try {
      const app = head()(
        deflater({ threshold: 0 })(() => [200, ['Content-Type', 'text/plain'], Readable.from(['x'])]),
      )
      const out = await runResponse(
        app(requestEnv({ method: 'HEAD', headers: { 'Accept-Encoding': 'gzip' } })),
      )
      expect(headerGet(out.headers, 'Content-Encoding')).toBe('gzip')
      expect(out.body).toBe('')
      expect(spy).not.toHaveBeenCalled()
      const get = await runResponse(app(requestEnv({ headers: { 'Accept-Encoding': 'gzip' } })))
      expect(gunzipSync(get.bytes).toString()).toBe('x')
      expect(spy).toHaveBeenCalledTimes(1)
    } finally {
      spy.mockRestore()
    }
  })
})

describe('HEAD and 304 through Head and ConditionalGET, every form', () => {
  const forms: [string, (status: number, headers: HeaderList) => App][] = [
    [
      'a writer, not awaited',
      (s, h) => () => (respond) => {
        const w = respond([s, [...h]])
        void w.write('body')
        void w.close()
      },
    ],
    [
      'a delayed response answering after a turn',
      (s, h) => () => (respond) => {
        setImmediate(() => {
          const w = respond([s, [...h]])
          void w.write('body')
          void w.close()
        })
      },
    ],
    [
      'a promise of a delayed triple',
      (s, h) => async () => (respond: Responder) => {
        setImmediate(() => respond([s, [...h], webStream(['body'])]))
      },
    ],
  ]
  it.each(forms)('Head drops the body of %s', async (_n, make) => {
    const out = await runResponse(head()(make(200, ['Content-Length', '4']))(requestEnv({ method: 'HEAD' })))
    expect([out.status, out.body, headerGet(out.headers, 'Content-Length')]).toEqual([200, '', '4'])
  })
  it.each(forms)('ConditionalGET answers 304 without a body for %s', async (_n, make) => {
    const env = requestEnv({ headers: { 'If-None-Match': '"t"' } })
    const out = await runResponse(
      conditionalGet()(make(200, ['ETag', '"t"', 'Content-Type', 'text/plain']))(env),
    )
    expect([out.status, out.body, headerGet(out.headers, 'Content-Type')]).toEqual([304, '', undefined])
  })
})
