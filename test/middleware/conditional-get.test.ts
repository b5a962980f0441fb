import { describe, expect, it } from 'vitest'
import { conditionalGet } from '../../middleware/conditional-get.js'
import { requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { HeaderList } from '../../src/types.js'
import { FORMS, type Form, type Probe, respondIn } from './forms.js'

const tag = 'Foo'
const date = 'Wed, 23 Sep 2009 13:36:33 GMT'
const nonMatchingDate = 'Wed, 23 Sep 2009 13:36:32 GMT'
const text = ['Content-Type', 'text/plain']

// Plack's t/Plack-Middleware/conditionalget.t, case by case.
describe('ConditionalGET: Plack conditionalget.t', () => {
  it.each<[string, HeaderList, Record<string, string>, number, HeaderList]>([
    ['no validators', text, {}, 200, text],
    ['matching ETag', ['ETag', tag, ...text], { HTTP_IF_NONE_MATCH: tag }, 304, ['ETag', tag]],
    [
      'matching date',
      ['Last-Modified', date, ...text],
      { HTTP_IF_MODIFIED_SINCE: date },
      304,
      ['Last-Modified', date],
    ],
    [
      'earlier date',
      ['Last-Modified', date, ...text],
      { HTTP_IF_MODIFIED_SINCE: nonMatchingDate },
      200,
      ['Last-Modified', date, ...text],
    ],
    [
      'date with "; length=2"',
      ['Last-Modified', date, ...text],
      { HTTP_IF_MODIFIED_SINCE: `${date}; length=2` },
      304,
      ['Last-Modified', date],
    ],
    [
      'POST',
      ['ETag', tag, ...text],
      { REQUEST_METHOD: 'POST', HTTP_IF_NONE_MATCH: tag },
      200,
      ['ETag', tag, ...text],
    ],
    [
      'both matching',
      ['ETag', tag, 'Last-Modified', date, ...text],
      { HTTP_IF_NONE_MATCH: tag, HTTP_IF_MODIFIED_SINCE: date },
      304,
      ['ETag', tag, 'Last-Modified', date],
    ],
    [
      'ETag not matching, date matching',
      ['ETag', tag, 'Last-Modified', date, ...text],
      { HTTP_IF_NONE_MATCH: 'Bar', HTTP_IF_MODIFIED_SINCE: date },
      200,
      ['ETag', tag, 'Last-Modified', date, ...text],
    ],
    // Plack answers 200 here (every present validator must match); RFC 9110 §13.2.2 ignores
    // If-Modified-Since when If-None-Match is present, so the matching ETag decides.
    [
      'ETag matching, date not matching (RFC 9110 order)',
      ['ETag', tag, 'Last-Modified', date, ...text],
      { HTTP_IF_NONE_MATCH: tag, HTTP_IF_MODIFIED_SINCE: nonMatchingDate },
      304,
      ['ETag', tag, 'Last-Modified', date],
    ],
  ])('%s', async (_, headers, env, status, expected) => {
    const app = conditionalGet()(() => [200, [...headers], ['OK']])
    const res = await runResponse(app(requestEnv(env)))
    expect(res.status).toBe(status)
    expect(res.headers).toEqual(expected)
    expect(res.body).toBe(status === 304 ? '' : 'OK')
  })
})

// Plack's t/Plack-Middleware/conditionalget_writer.t.
describe('ConditionalGET: Plack conditionalget_writer.t', () => {
  it.each(['MockHTTP', 'Server'] as const)('swallows a writer body on 304 (%s)', async (impl) => {
    const app = conditionalGet()(() => async (respond) => {
      const writer = respond([200, ['Content-Type', 'text/plain', 'ETag', 'DEADBEEF']])
      for (const word of ['kling', 'klang', 'klong']) await writer.write(word)
      await writer.close()
    })
    await testApp(
      app,
      async (fetch) => {
        const ok = await fetch('/streaming-klingklangklong')
        expect(ok.status).toBe(200)
        expect(await ok.text()).toBe('klingklangklong')
        const res = await fetch('/streaming-klingklangklong', { headers: { 'If-None-Match': 'DEADBEEF' } })
        expect(res.status).toBe(304)
        expect(await res.text()).toBe('')
      },
      { impl },
    )
  })
})

describe('ConditionalGET: every response form', () => {
  const headers = ['ETag', '"v1"', 'Content-Type', 'text/plain', 'Content-Length', '5']

  it.each(FORMS)('%s body: 304 without body or representation headers, 200 otherwise', async (form: Form) => {
    const probe: Probe = { pulled: 0, closed: false }
    const app = conditionalGet()(() => respondIn(form, 200, headers, ['he', 'llo'], probe))
    const res = await runResponse(app(requestEnv({ HTTP_IF_NONE_MATCH: 'W/"v1"' })))
    expect(res.status).toBe(304)
    expect(res.headers).toEqual(['ETag', '"v1"'])
    expect(res.body).toBe('')
    expect(probe.pulled).toBe(0)
    if (form === 'iterable') expect(res.raw).toEqual([])
    await testApp(app, async (fetch) => {
      const hit = await fetch('/', { headers: { 'If-None-Match': '"v1"' } })
      expect(hit.status).toBe(304)
      expect(await hit.text()).toBe('')
      const miss = await fetch('/', { headers: { 'If-None-Match': '"v0"' } })
      expect(miss.status).toBe(200)
      expect(await miss.text()).toBe('hello')
    })
  })

  it('closes an unread iterable body so its finally block runs', async () => {
    const probe: Probe = { pulled: 0, closed: false }
    const app = conditionalGet()(() => [
      200,
      ['ETag', '"a"'],
      (async function* body() {
        try {
          probe.pulled++
          yield 'never read'
        } finally {
          probe.closed = true
        }
      })(),
    ])
    await runResponse(app(requestEnv({ HTTP_IF_NONE_MATCH: '"a"' })))
    // A generator that never started has no finally to run; one started by the app has.
    expect(probe.pulled).toBe(0)
    const started: Probe = { pulled: 0, closed: false }
    const app2 = conditionalGet()(async () => {
      const it = (async function* body() {
        try {
          started.pulled++
          yield 'first'
          yield 'second'
        } finally {
          started.closed = true
        }
      })()
      await it.next()
      return [200, ['ETag', '"a"'], it]
    })
    const res = await runResponse(app2(requestEnv({ HTTP_IF_NONE_MATCH: '"a"' })))
    expect(res.status).toBe(304)
    expect(started).toEqual({ pulled: 1, closed: true })
  })

  it('reports a body that fails to close to tsgi.errors and still answers 304', async () => {
    const errors: string[] = []
    const body: AsyncIterable<string> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: true, value: undefined }),
        return: async () => {
          throw new Error('boom')
        },
      }),
    }
    const app = conditionalGet()(() => [200, ['ETag', '"a"'], body])
    const env = requestEnv({
      HTTP_IF_NONE_MATCH: '"a"',
      'tsgi.errors': { write: (m: string) => errors.push(m) },
    })
    expect((await runResponse(app(env))).status).toBe(304)
    expect(errors.join('')).toMatch(/ConditionalGET: closing the response body failed: Error: boom/)
  })
})

describe('ConditionalGET: options', () => {
  it.each<[unknown, RegExp]>([
    [{ weak: true }, /ConditionalGET: unknown option 'weak'/],
    ['x', /ConditionalGET: options must be an object/],
  ])('rejects %j with a TypeError', (options, message) => {
    expect(() => conditionalGet(options as never)).toThrow(TypeError)
    expect(() => conditionalGet(options as never)).toThrow(message)
  })

  it('accepts no options or an empty object', () => {
    expect(typeof conditionalGet()).toBe('function')
    expect(typeof conditionalGet({})).toBe('function')
  })
})
