import { describe, expect, it } from 'vitest'
import { httpExceptions } from '../../middleware/http-exceptions.js'
import { HttpError } from '../../src/http-error.js'
import { testApp } from '../../src/testing/index.js'
import type { App, Env } from '../../src/types.js'
import { RAISERS } from './forms.js'

/** An error class with a status, as Plack's test defines its own exception classes. */
class CodedError extends Error {
  constructor(
    readonly status: number,
    message = '',
    readonly location?: string,
  ) {
    super(message)
  }
}

describe.each(RAISERS)('HTTPExceptions: error %s', (_, raiser) => {
  // Plack's httpexceptions.t routes
  const plackApp: App = (env) =>
    raiser(() => {
      if (env.PATH_INFO === '/secret') return new CodedError(403, 'blah blah blah')
      if (env.PATH_INFO === '/redirect') return new CodedError(302, '', 'http://somewhere/else')
      return new CodedError(500)
    })(env)

  it("translates Plack's httpexceptions.t", async () => {
    await testApp(httpExceptions()(plackApp), async (fetch) => {
      let res = await fetch('/')
      expect(res.status).toBe(500)
      expect(await res.text()).toBe('Internal Server Error')

      res = await fetch('/secret')
      expect(res.status).toBe(403)
      expect(await res.text()).toBe('blah blah blah')

      res = await fetch('/redirect')
      expect(res.status).toBe(302)
      expect(res.headers.get('location')).toBe('http://somewhere/else')
    })
  })

  it('sends an HttpError with its headers, exposing the message below 500 only', async () => {
    const app = httpExceptions()((env) =>
      raiser(() =>
        env.PATH_INFO === '/teapot'
          ? new HttpError(418, 'short and stout', { headers: ['X-Pot', 'tea'] })
          : new HttpError(503, 'database password is hunter2', { headers: ['Retry-After', '120'] }),
      )(env),
    )
    await testApp(app, async (fetch) => {
      let res = await fetch('/teapot')
      expect(res.status).toBe(418)
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
      expect(res.headers.get('x-pot')).toBe('tea')
      expect(await res.text()).toBe('short and stout')

      res = await fetch('/down')
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('120')
      expect(await res.text()).toBe('Service Unavailable')
    })
  })

  it('redirects with a 3xx HttpError carrying Location', async () => {
    const app = httpExceptions()(
      raiser(() => new HttpError(303, undefined, { headers: ['Location', '/login'] })),
    )
    await testApp(app, async (fetch) => {
      const res = await fetch('/')
      expect(res.status).toBe(303)
      expect(res.headers.get('location')).toBe('/login')
    })
  })

  it('honours expose on HttpError', async () => {
    const app = httpExceptions()(raiser(() => new HttpError(500, 'safe to show', { expose: true })))
    await testApp(app, async (fetch) => {
      expect(await (await fetch('/')).text()).toBe('safe to show')
    })
  })

  it('rethrows errors without a status, to the server by default', async () => {
    const app = httpExceptions()(raiser(() => new Error('kaboom')))
    await testApp(app, async (fetch, ctx) => {
      const res = await fetch('/')
      expect(res.status).toBe(500)
      expect(await res.text()).not.toContain('kaboom')
      expect(ctx.errors()).toContain('kaboom')
    })
  })

  it('answers errors without a status with 500 itself when rethrow is false, logging them', async () => {
    let seen: Env | undefined
    const inner = raiser(() => new TypeError('kaboom'))
    const app = httpExceptions({ rethrow: false })((env) => {
      seen = env
      return inner(env)
    })
    await testApp(app, async (fetch, ctx) => {
      const res = await fetch('/')
      expect(res.status).toBe(500)
      expect(await res.text()).toBe('Internal Server Error')
      expect(ctx.errors()).toContain('TypeError: kaboom')
      expect(seen?.['tsgix.stacktrace.error']).toBeInstanceOf(TypeError)
    })
  })
})

describe('HTTPExceptions', () => {
  it('leaves normal responses alone, including writer responses', async () => {
    const app = httpExceptions()((env) => {
      if (env.PATH_INFO === '/ok') {
        return async (respond) => {
          const w = respond([200, ['Content-Type', 'text/plain']])
          await w.write('Hello')
          await w.close()
        }
      }
      return [200, ['Content-Type', 'text/plain'], ['plain']]
    })
    await testApp(app, async (fetch) => {
      expect(await (await fetch('/ok')).text()).toBe('Hello')
      expect(await (await fetch('/')).text()).toBe('plain')
    })
  })

  it('does not touch an error raised after the head was sent', async () => {
    const app = httpExceptions()(() => async (respond) => {
      const w = respond([200, ['Content-Type', 'text/plain']])
      await w.write('partial')
      throw new HttpError(404)
    })
    await testApp(
      app,
      async (fetch, ctx) => {
        const res = await fetch('/')
        expect(res.status).toBe(200)
        await expect(res.text()).rejects.toThrow()
        expect(ctx.errors()).toContain('Not Found')
      },
      { impl: 'Server' },
    )
  })

  it.each([
    [{ rethrow: 1 }, /HTTPExceptions: option 'rethrow' must be a boolean/],
    [{ pass: true }, /HTTPExceptions: unknown option 'pass'/],
  ])('rejects bad options %o', (options, message) => {
    expect(() => httpExceptions(options as never)).toThrow(TypeError)
    expect(() => httpExceptions(options as never)).toThrow(message)
  })
})
