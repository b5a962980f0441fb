import { createReadStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { accessLogTimed } from '../../middleware/access-log-timed.js'
import { fileBody } from '../../src/body.js'
import { requestEnv, testApp } from '../../src/testing/index.js'
import type { App, Body, Chunk, Env, Triple } from '../../src/types.js'
import { logCapture } from './log-capture.js'

const textPlain = ['Content-Type', 'text/plain']

async function* chunks(...parts: Chunk[]): AsyncGenerator<Chunk> {
  for (const part of parts) yield part
}

const forms: [string, () => App][] = [
  ['array body', () => () => [200, textPlain, ['OK']]],
  ['async-iterable body', () => () => [200, textPlain, chunks('O', 'K')]],
  ['delayed triple', () => () => (respond) => respond([200, textPlain, ['OK']])],
  [
    'writer',
    () => () => async (respond) => {
      const writer = respond([200, textPlain])
      await writer.write('O')
      await writer.write('K')
      await writer.close()
    },
  ],
]

describe.each(['MockHTTP', 'Server'] as const)(
  'AccessLog::Timed under %s: Plack access_log_timed.t',
  (impl) => {
    describe.each(forms)('%s', (_, makeApp) => {
      it.each<[string, string, RequestInit, RegExp]>([
        ['GET /', '/', {}, /^127\.0\.0\.1 - - \[.*?\] "GET \/ HTTP\/1\.1" 200 2 "-" "[^"]*"\n$/],
        [
          'POST /foo',
          '/foo',
          { method: 'POST', body: new URLSearchParams({ foo: 'bar' }) },
          /^127\.0\.0\.1 - - \[.*?\] "POST \/foo HTTP\/1\.1" 200 2 /,
        ],
        ['a path with %20 and a query', '/foo%20bar?baz=baz', {}, /"GET \/foo%20bar\?baz=baz HTTP\/1\.1"/],
      ])('%s', async (_, path, init, pattern) => {
        const log = logCapture()
        await testApp(
          accessLogTimed({ logger: log.logger })(makeApp()),
          async (fetch) => {
            const res = await fetch(path, init)
            expect(await res.text()).toBe('OK')
          },
          { impl },
        )
        expect(await log.line(0)).toMatch(pattern)
        expect(log.lines).toHaveLength(1)
      })
    })
  },
)

describe('AccessLog::Timed: %D and %T', () => {
  it.each(forms)('measures to the end of the body (%s), with an injected clock', async (_, makeApp) => {
    let ms = Date.UTC(2020, 0, 1)
    const now = () => {
      const d = new Date(ms)
      ms += 1200 // every reading is 1.2 s later than the one before
      return d
    }
    const log = logCapture()
    await testApp(
      accessLogTimed({ format: '%T %D %{ms}T', logger: log.logger, now })(makeApp()),
      async (fetch) => {
        await (await fetch('/')).text()
      },
    )
    // One reading at the start, one when the line is written.
    expect(await log.line(0)).toBe('1 1200000 1200\n')
  })

  it('measures with the real clock by default', async () => {
    const log = logCapture()
    await testApp(accessLogTimed({ format: '%T %D', logger: log.logger })(forms[0]![1]()), async (fetch) => {
      await (await fetch('/')).text()
    })
    expect(await log.line(0)).toMatch(/^\d+ \d+\n$/)
  })
})

describe('AccessLog::Timed: byte counts', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsgi-timed-'))
    await writeFile(join(dir, 'ten.txt'), '0123456789')
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it.each(['MockHTTP', 'Server'] as const)('counts a file body and its range (%s)', async (impl) => {
    const log = logCapture()
    const app: App = (env) => [
      200,
      [],
      env.PATH_INFO === '/range'
        ? fileBody(join(dir, 'ten.txt'), { start: 2, end: 5 })
        : fileBody(join(dir, 'ten.txt')),
    ]
    await testApp(
      accessLogTimed({ format: '%U %b', logger: log.logger })(app),
      async (fetch) => {
        expect(await (await fetch('/whole')).text()).toBe('0123456789')
        expect(await (await fetch('/range')).text()).toBe('2345')
      },
      { impl },
    )
    await log.line(1)
    expect([...log.lines].sort()).toEqual(['/range 4\n', '/whole 10\n'])
  })

  it('counts the bytes a stream with a path sends, never stat-ing its path', async () => {
    const log = logCapture()
    const app: App = (env) => {
      if (env.PATH_INFO === '/stream') return [200, [], createReadStream(join(dir, 'ten.txt'), { start: 1 })]
      // A hand-made object with a path is a stream too: its path names nothing.
      const handMade = { path: join(dir, 'missing'), [Symbol.asyncIterator]: () => chunks('abc') }
      return [200, [], handMade]
    }
    await testApp(accessLogTimed({ format: '%U %b', logger: log.logger })(app), async (fetch) => {
      expect(await (await fetch('/stream')).text()).toBe('123456789')
      expect(await (await fetch('/hand-made')).text()).toBe('abc')
    })
    await log.line(1)
    expect([...log.lines].sort()).toEqual(['/hand-made 3\n', '/stream 9\n'])
  })

  it.each(forms)('counts UTF-8 bytes and logs 0 for HEAD (%s)', async (_, makeApp) => {
    const log = logCapture()
    const bodies: Record<string, () => Body> = {
      'array body': () => ['Grüße'],
      'async-iterable body': () => chunks('Grü', 'ße'),
    }
    const body = bodies[_]
    const app: App = body ? () => [200, textPlain, body()] : makeApp()
    const expected = body ? '7' : '2'
    await testApp(accessLogTimed({ format: '%m %B', logger: log.logger })(app), async (fetch) => {
      await (await fetch('/')).text()
      await (await fetch('/', { method: 'HEAD' })).text()
    })
    await log.line(1)
    expect(log.lines).toEqual([`GET ${expected}\n`, 'HEAD 0\n'])
  })

  it('keeps Content-Length of a streamed body', async () => {
    const log = logCapture()
    const app: App = () => [200, ['Content-Length', '4'], chunks('ab', 'cd')]
    await testApp(
      accessLogTimed({ format: '%b', logger: log.logger })(app),
      async (fetch) => {
        const res = await fetch('/')
        expect(res.headers.get('content-length')).toBe('4')
        expect(await res.text()).toBe('abcd')
      },
      { impl: 'Server' },
    )
    expect(await log.line(0)).toBe('4\n')
  })
})

/** GETs `url` with node:http and destroys the request once the first body chunk arrives. */
function disconnectAfterFirstChunk(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      res.once('data', (chunk: Buffer) => {
        req.destroy()
        resolve(chunk.toString())
      })
    })
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET') reject(err)
    })
  })
}

function aborted(env: Env): Promise<void> {
  const signal = env['tsgix.signal']!
  return new Promise((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
}

describe('AccessLog::Timed: aborted requests', () => {
  const streamed: [string, (env: Env, done: (what: string) => void) => ReturnType<App>][] = [
    [
      'writer',
      (env, done) => async (respond) => {
        const writer = respond([206, textPlain])
        await writer.write('first chunk')
        await aborted(env)
        await writer.write('never sent').catch(() => done('write rejected'))
      },
    ],
    [
      'async-iterable body',
      (env, done) => {
        async function* body(): AsyncGenerator<Chunk> {
          try {
            yield 'first chunk'
            await aborted(env)
            yield 'never sent'
          } finally {
            done('finally ran')
          }
        }
        return [206, textPlain, body() as Body]
      },
    ],
  ]

  it.each(streamed)(
    'logs once, with the bytes sent so far, when the client goes (%s)',
    async (_, respond) => {
      const log = logCapture()
      let appDone!: (what: string) => void
      const appFinished = new Promise<string>((resolve) => {
        appDone = resolve
      })
      const app: App = (env) => respond(env, appDone)
      await testApp(
        accessLogTimed({ format: '%>s %b "%r"', logger: log.logger })(app),
        async (_fetch, ctx) => {
          expect(await disconnectAfterFirstChunk(new URL('/stream', ctx.url).href)).toBe('first chunk')
          expect(await log.line(0)).toBe('206 11 "GET /stream HTTP/1.1"\n')
          expect(await appFinished).toMatch(/rejected|finally/)
        },
        { impl: 'Server' },
      )
      expect(log.lines).toHaveLength(1)
    },
  )
})

describe('AccessLog::Timed: without cleanup handlers', () => {
  /** An env as a server without cleanup handlers gives. */
  const makeEnv = (signal?: AbortSignal): Env =>
    requestEnv({ signal, 'tsgix.cleanup': undefined, 'tsgix.cleanup.handlers': undefined })

  it('logs at the end of a streamed body', async () => {
    const log = logCapture()
    const app = accessLogTimed({ format: '%b', logger: log.logger })(() => [200, [], chunks('abc', 'de')])
    const res = (await app(makeEnv())) as Triple
    const seen: Chunk[] = []
    for await (const chunk of res[2] as AsyncIterable<Chunk>) {
      expect(log.lines).toEqual([])
      seen.push(chunk)
    }
    expect(seen).toEqual(['abc', 'de'])
    expect(log.lines).toEqual(['5\n'])
  })

  it('logs an array body at once', async () => {
    const log = logCapture()
    const app = accessLogTimed({ format: '%b', logger: log.logger })(() => [200, [], ['abc']])
    await app(makeEnv())
    expect(log.lines).toEqual(['3\n'])
  })

  it('logs once when the signal aborts mid-stream, and not again at the end', async () => {
    const log = logCapture()
    const controller = new AbortController()
    const app = accessLogTimed({ format: '%b', logger: log.logger })(() => [200, [], chunks('abc', 'de')])
    const res = (await app(makeEnv(controller.signal))) as Triple
    const it = (res[2] as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
    await it.next()
    controller.abort('client-disconnected')
    expect(log.lines).toEqual(['3\n'])
    await it.return?.()
    expect(log.lines).toEqual(['3\n'])
  })
})

describe('AccessLog::Timed: options', () => {
  it.each<[unknown, RegExp]>([
    [{ foo: 1 }, /AccessLog::Timed: unknown option 'foo'/],
    [{ format: '%Y' }, /AccessLog::Timed: option 'format': %Y is not supported/],
    [{ logger: 1 }, /AccessLog::Timed: option 'logger' must be a function/],
  ])('rejects %j', (options, message) => {
    expect(() => accessLogTimed(options as never)).toThrow(message)
  })

  it('writes to tsgi.errors without a logger', async () => {
    const written = logCapture()
    await testApp(
      accessLogTimed({ format: '%s %b' })(() => [200, [], ['abc']]),
      async (fetch, ctx) => {
        await (await fetch('/')).text()
        expect(await written.line(0)).toBe('200 3\n')
        expect(ctx.errors()).toBe('200 3\n')
      },
      { errors: { write: written.logger } },
    )
  })
})
