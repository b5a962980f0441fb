import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonp } from '../../middleware/jsonp.js'
import { headerGet } from '../../src/headers.js'
import { requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { App, AppResult, Env } from '../../src/types.js'
import { FORMS, respondIn } from './forms.js'

const parts = ['{"foo":', '"bar"}']
const json = parts.join('')
const go = (app: App, env: Env) => runResponse(Promise.resolve(app(env)))

describe.each(FORMS)('JSONP, %s response', (form) => {
  const api: App = () =>
    respondIn(form, 200, ['Content-Type', 'application/json', 'Content-Length', String(json.length)], parts)

  // Plack's jsonp.t, both cases (a custom callbackKey, the default one).
  it.each([
    [{ callbackKey: 'json.p' }, 'json.p'],
    [{}, 'callback'],
  ])('wraps the body with %o', async (options, key) => {
    await testApp(jsonp(options)(api), async (fetch) => {
      let res = await fetch('/')
      expect(res.headers.get('content-type')).toBe('application/json')
      expect(await res.text()).toBe(json)

      res = await fetch(`/?${key}=foo`)
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
      expect(res.headers.get('content-length')).not.toBe(String(json.length))
      expect(await res.text()).toBe(`/**/foo(${json})`)
    })
  })

  it.each([
    ['jQuery123_456', true],
    ['a.b[0].c', true],
    ['$.cb', true],
    ['alert(1)//', false],
    ['x;y', false],
    ['a b', false],
    ['%3Cscript%3E', false],
    ['', false],
  ])('callback %j is valid: %s', async (name, valid) => {
    const out = await go(
      jsonp()(api),
      requestEnv({ QUERY_STRING: `x=1&callback=${encodeURIComponent(name)}` }),
    )
    expect(out.body).toBe(valid ? `/**/${name}(${json})` : json)
  })

  it('sends X-Content-Type-Options: nosniff with a wrapped body only', async () => {
    const wrapped = await go(jsonp()(api), requestEnv({ QUERY_STRING: 'callback=cb' }))
    expect(headerGet(wrapped.headers, 'x-content-type-options')).toBe('nosniff')
    const plain = await go(jsonp()(api), requestEnv({ QUERY_STRING: 'callback=a(b)' }))
    expect(headerGet(plain.headers, 'x-content-type-options')).toBeUndefined()
  })

  it('wraps +json types and leaves others alone', async () => {
    const typed =
      (type: string): App =>
      () =>
        respondIn(form, 200, ['Content-Type', type], parts)
    const env = () => requestEnv({ QUERY_STRING: 'callback=cb' })
    expect((await go(jsonp()(typed('application/vnd.api+json; charset=utf-8')), env())).body).toBe(
      `/**/cb(${json})`,
    )
    expect((await go(jsonp()(typed('text/html')), env())).body).toBe(json)
  })
})

describe('JSONP', () => {
  it('wraps an empty body', async () => {
    const out = await go(
      jsonp()(() => [200, ['Content-Type', 'application/json'], []]),
      requestEnv({ QUERY_STRING: 'callback=cb' }),
    )
    expect(out.body).toBe('/**/cb()')
  })

  it('wraps byte chunks', async () => {
    const app: App = (): AppResult => [
      200,
      ['Content-Type', 'application/json'],
      [new TextEncoder().encode('[1]')],
    ]
    const out = await go(jsonp()(app), requestEnv({ QUERY_STRING: 'callback=cb' }))
    expect(out.body).toBe('/**/cb([1])')
  })

  it('never lets a callback break out of the identifier position (property)', async () => {
    const api: App = () => [200, ['Content-Type', 'application/json'], ['{}']]
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ unit: 'binary' }), fc.stringMatching(/^[\w.$[\]()<>;'"`\\/ =%+-]{1,20}$/)),
        async (name) => {
          const env = requestEnv({ QUERY_STRING: `callback=${encodeURIComponent(name)}` })
          const out = await go(jsonp()(api), env)
          if (out.body === '{}') return
          expect(out.body).toBe(`/**/${name}({})`)
          expect(name).toMatch(/^[A-Za-z0-9_.$[\]]+$/)
          expect(headerGet(out.headers, 'x-content-type-options')).toBe('nosniff')
        },
      ),
    )
  })

  it.each([
    [{ callbackKey: 5 }, /JSONP: option 'callbackKey' must be a string/],
    [{ callbackKey: '' }, /JSONP: option 'callbackKey' must not be empty/],
    [{ callback_key: 'cb' }, /JSONP: unknown option 'callback_key'/],
  ])('rejects bad options %o', (options, message) => {
    expect(() => jsonp(options as never)).toThrow(TypeError)
    expect(() => jsonp(options as never)).toThrow(message)
  })
})
