import { describe, expect, it } from 'vitest'
import { accessLog } from '../../middleware/access-log.js'
import { testApp } from '../../src/testing/index.js'
import type { App, Env } from '../../src/types.js'
import { logCapture, pinTimeZone } from './log-capture.js'

pinTimeZone('America/Los_Angeles')

// 2000-10-10 13:55:36 in Los Angeles (PDT, -0700): Apache's own example.
const apacheExample = () => new Date('2000-10-10T20:55:36Z')

const plain: App = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '2'], ['OK']]

/** Runs one request through AccessLog with `format` and returns the line without its newline. */
async function logLine(
  format: string,
  path: string,
  init: RequestInit = {},
  app: App = plain,
): Promise<string> {
  const log = logCapture()
  const wrapped = accessLog({ format, logger: log.logger, now: apacheExample })(app)
  await testApp(wrapped, async (fetch) => {
    await (await fetch(path, init)).text()
  })
  expect(log.lines).toHaveLength(1)
  expect(log.lines[0]!.endsWith('\n')).toBe(true)
  return log.lines[0]!.slice(0, -1)
}

describe('AccessLog: Plack access_log.t', () => {
  it('logs %P %{Host}i %p %{X-Forwarded-For}i %{Content-Type}o %{%m %y}t %v', async () => {
    const line = await logLine(
      '%P %{Host}i %p %{X-Forwarded-For}i %{Content-Type}o %{%m %y}t %v',
      'http://example.com/',
      {
        headers: { 'X-Forwarded-For': '192.0.2.1' },
      },
    )
    expect(line).toBe(`${process.pid} example.com 80 192.0.2.1 text/plain [10 00] example.com`)
  })

  it('logs %D as - (no timing here)', async () => {
    expect(await logLine('%D', '/')).toBe('-')
  })

  it.each(['/', '/foo?bar=baz'])('%%r equals %%m %%U%%q %%H for %s', async (path) => {
    const [r, rs] = (await logLine('%r == %m %U%q %H', `http://example.com${path}`)).split(' == ')
    expect(r).toBe(`GET ${path} HTTP/1.1`)
    expect(rs).toBe(r)
  })

  it('takes char handlers', async () => {
    const log = logCapture()
    const app = accessLog({
      format: '%m %z',
      logger: log.logger,
      charHandlers: { z: (env: Env) => env.HTTP_X_FORWARDED_FOR },
    })(plain)
    await testApp(app, async (fetch) => {
      await fetch('/foo?bar=baz', { headers: { 'X-Forwarded-For': 'herp derp' } })
    })
    expect(log.lines).toEqual(['GET herp derp\n'])
  })

  it('takes block handlers', async () => {
    const log = logCapture()
    const app = accessLog({
      format: '%m %{HTTP_X_RAND_R}Z',
      logger: log.logger,
      blockHandlers: { Z: (block: string, env: Env) => env[block] || '-' },
    })(plain)
    await testApp(app, async (fetch) => {
      await fetch('/foo?bar=baz', { headers: { 'X-Rand-R': 'station' } })
    })
    expect(log.lines).toEqual(['GET station\n'])
  })

  it('maps Content-Type and Content-Length in %{...}i to the CGI keys', async () => {
    const line = await logLine(
      'cti=%{Content-Type}i cli=%{Content-Length}i cto=%{Content-Type}o clo=%{Content-Length}o',
      '/foo',
      { method: 'POST', body: new URLSearchParams({ bar: 'baz' }) },
    )
    expect(line).toBe('cti=application/x-www-form-urlencoded;charset=UTF-8 cli=7 cto=text/plain clo=2')
  })
})

describe('AccessLog: Plack access_log_value_zero.t', () => {
  it('logs a header of "0" as 0 and a missing one as -', async () => {
    expect(await logLine('%{zero}i %{undef}i', '/', { headers: { Zero: '0' } })).toBe('0 -')
  })
})

describe('AccessLog: formats', () => {
  it('uses combined by default', async () => {
    const log = logCapture()
    const app = accessLog({ logger: log.logger, now: apacheExample })(plain)
    await testApp(app, async (fetch) => {
      await fetch('/a%20b?x=1', { headers: { Referer: 'http://r.example/', 'User-Agent': 'tester/1.0' } })
    })
    expect(log.lines).toEqual([
      '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a%20b?x=1 HTTP/1.1" 200 2 "http://r.example/" "tester/1.0"\n',
    ])
  })

  it('knows common by name', async () => {
    expect(await logLine('common', '/x')).toBe(
      '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /x HTTP/1.1" 200 2',
    )
  })

  it('writes to tsgi.errors without a logger', async () => {
    const app = accessLog({ format: '%s %b %U', now: apacheExample })(plain)
    await testApp(app, async (fetch, ctx) => {
      await (await fetch('/to-errors')).text()
      expect(ctx.errors()).toBe('200 2 /to-errors\n')
    })
  })

  it('escapes quotes, control characters and non-ASCII bytes as Apache does', async () => {
    const line = await logLine('%{X-Evil}i|%{X-Out}o', '/', { headers: { 'X-Evil': 'a"b\\c\té' } }, () => [
      200,
      ['X-Out', 'x"y'],
      [],
    ])
    // Header values reach the app as latin-1 code units: é is one \xe9.
    expect(line).toBe('a\\"b\\\\c\\t\\xe9|x\\"y')
  })

  it('logs the status the app gave', async () => {
    expect(await logLine('%s %>s %<s', '/', {}, () => [404, [], ['no']])).toBe('404 404 404')
  })
})

describe('AccessLog: the byte count for each response form', () => {
  const headers = ['Content-Type', 'text/plain']
  it.each<[string, App, string]>([
    ['array body', () => [200, headers, ['Hello', ' wörld']], '12'],
    [
      'async-iterable body',
      () => [
        200,
        headers,
        (async function* () {
          yield 'Hello'
        })(),
      ],
      '-',
    ],
    [
      'async-iterable body with Content-Length',
      () => [
        200,
        ['Content-Length', '5'],
        (async function* () {
          yield 'Hello'
        })(),
      ],
      '5',
    ],
    [
      'writer',
      () => async (respond) => {
        const writer = respond([200, headers])
        await writer.write('Hello')
        await writer.close()
      },
      '-',
    ],
    ['delayed triple', () => (respond) => respond([201, headers, ['Hi']]), '2'],
  ])('%s', async (_, app, bytes) => {
    const log = logCapture()
    await testApp(accessLog({ format: '%>s %b %B', logger: log.logger })(app), async (fetch) => {
      const res = await fetch('/')
      expect(await res.text()).toMatch(/^H/)
    })
    const status = _ === 'delayed triple' ? '201' : '200'
    expect(log.lines).toEqual([`${status} ${bytes} ${bytes}\n`])
  })

  it('logs %b as - and %B as 0 for an empty array body', async () => {
    expect(await logLine('%b %B', '/', {}, () => [204, [], []])).toBe('- 0')
  })
})

describe('AccessLog: options', () => {
  it.each<[string, unknown, RegExp]>([
    ['unknown option', { formt: 'common' }, /AccessLog: unknown option 'formt'/],
    ['format not a string', { format: 42 }, /AccessLog: option 'format' must be a string/],
    ['logger not a function', { logger: 'stderr' }, /AccessLog: option 'logger' must be a function/],
    ['now not a function', { now: new Date() }, /AccessLog: option 'now' must be a function/],
    ['unsupported directive', { format: '%h %Y' }, /AccessLog: option 'format': %Y is not supported/],
    ['unsupported block', { format: '%{x}Q' }, /AccessLog: option 'format': %\{x\}Q is not supported/],
    ['bad %T unit', { format: '%{min}T' }, /AccessLog: option 'format': %\{min\}T takes/],
    [
      'charHandlers not an object',
      { charHandlers: [] },
      /AccessLog: option 'charHandlers' must be an object/,
    ],
    ['handler key not a letter', { charHandlers: { zz: () => 1 } }, /AccessLog: option 'charHandlers': 'zz'/],
    [
      'handler not a function',
      { blockHandlers: { Z: 1 } },
      /AccessLog: option 'blockHandlers': the handler for 'Z'/,
    ],
    ['format with compiledFormat', { format: 'common', compiledFormat: () => '' }, /exclude each other/],
  ])('rejects %s', (_, options, message) => {
    expect(() => accessLog(options as never)).toThrow(TypeError)
    expect(() => accessLog(options as never)).toThrow(message)
  })

  it('takes a compiled format', async () => {
    const log = logCapture()
    const app = accessLog({ compiledFormat: (r) => `${r.status}:${r.length}`, logger: log.logger })(plain)
    await testApp(app, async (fetch) => {
      await fetch('/')
    })
    expect(log.lines).toEqual(['200:2\n'])
  })
})
