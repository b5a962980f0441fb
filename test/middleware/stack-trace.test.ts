import { afterEach, describe, expect, it } from 'vitest'
import { httpExceptions } from '../../middleware/http-exceptions.js'
import { stackTrace } from '../../middleware/stack-trace.js'
import { HttpError } from '../../src/http-error.js'
import { testApp } from '../../src/testing/index.js'
import type { App, Delayed, Env, Triple } from '../../src/types.js'
import { RAISERS } from './forms.js'

const HTML = { headers: { Accept: 'text/html,*/*' } }

function orz(): never {
  throw new Error('orz')
}

describe.each(RAISERS)('StackTrace: error %s', (_, raiser) => {
  // Plack's stacktrace/basic.t
  it('answers an HTML page to clients that accept HTML, and sets tsgix.stacktrace.text', async () => {
    let seen: Env | undefined
    const traced = stackTrace({ noPrintErrors: true })(raiser(() => new Error('orz')))
    const app: App = (env) => {
      seen = env
      return traced(env)
    }
    await testApp(app, async (fetch, ctx) => {
      const res = await fetch('/', HTML)
      expect(res.status).toBe(500)
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(await res.text()).toMatch(/<title>Error: Error: orz/)
      expect(seen?.['tsgix.stacktrace.text']).toMatch(/orz/)
      expect(ctx.errors()).toBe('')
    })
  })

  it('answers plain text otherwise, with TypeScript positions, and logs the trace', async () => {
    await testApp(stackTrace()(raiser(() => new Error('orz'))), async (fetch, ctx) => {
      const res = await fetch('/')
      expect(res.status).toBe(500)
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
      const text = await res.text()
      expect(text).toMatch(/^Error: orz\n\s+at /)
      expect(text).toMatch(/stack-trace\.test\.ts:\d+:\d+/)
      expect(ctx.errors()).toContain('Error: orz')
    })
  })
})

describe('StackTrace', () => {
  const oldEnv = process.env.NODE_ENV
  afterEach(() => {
    process.env.NODE_ENV = oldEnv
  })

  // Plack's multiple_exceptions.t: the frame that threw appears, even through a rethrowing layer.
  it('shows the frame that threw, through a layer that catches and rethrows', async () => {
    const rethrowing: App = async (env) => {
      try {
        return await (() => orz())()
      } catch (err) {
        void env
        throw err
      }
    }
    await testApp(stackTrace({ noPrintErrors: true })(rethrowing), async (fetch) => {
      expect(await (await fetch('/')).text()).toMatch(/\borz\b[\s\S]*at orz /)
    })
  })

  it.each(['MockHTTP', 'Server'] as const)(
    'escapes the HTML page; utf8.t: non-ASCII text survives (%s)',
    async (impl) => {
      const app = stackTrace({ noPrintErrors: true })(() => {
        throw new Error('<script>alert(1)</script> Foo \u30c6')
      })
      await testApp(
        app,
        async (fetch) => {
          const html = await (await fetch('/', HTML)).text()
          expect(html).not.toContain('<script>')
          expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Foo \u30c6')
          const text = await (await fetch('/')).text()
          expect(text).toContain('Foo \u30c6')
        },
        { impl },
      )
    },
  )

  it('shows the cause chain', async () => {
    const app = stackTrace({ noPrintErrors: true })(() => {
      throw new Error('outer', { cause: new RangeError('inner', { cause: 'root reason' }) })
    })
    await testApp(app, async (fetch) => {
      const text = await (await fetch('/')).text()
      expect(text).toMatch(/^Error: outer[\s\S]*Caused by: RangeError: inner[\s\S]*Caused by: root reason/)
      const html = await (await fetch('/', HTML)).text()
      expect(html).toContain('<h2>Caused by: RangeError: inner</h2>')
    })
  })

  it('shows a thrown non-Error value', async () => {
    const app = stackTrace({ noPrintErrors: true })(() => {
      throw 'orz'
    })
    await testApp(app, async (fetch) => {
      expect(await (await fetch('/')).text()).toMatch(/^orz\n.*not an Error/)
    })
  })

  // Plack's stacktrace/streaming.t
  it('passes delayed responses through', async () => {
    const app = stackTrace()(
      () => (respond) => respond([200, ['Content-Type', 'text/plain'], ['Hello World']]),
    )
    await testApp(app, async (fetch) => {
      const res = await fetch('/')
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('Hello World')
    })
  })

  // Plack's stacktrace/force.t, with the error recorded the TSGI way.
  const forms: [string, (env: Env) => Triple | Delayed][] = [
    ['array body', () => [500, ['Content-Type', 'text/html'], ['Fancy Error']]],
    [
      'async-iterable body',
      () => [
        500,
        ['Content-Type', 'text/html'],
        (async function* () {
          yield 'Fancy '
          yield 'Error'
        })(),
      ],
    ],
    [
      'writer response',
      () => async (respond) => {
        const w = respond([500, ['Content-Type', 'text/html']])
        await w.write('Fancy ')
        await w.write('Error')
        await w.close()
      },
    ],
  ]
  describe.each(forms)('force, %s', (_, respond) => {
    const app: App = (env) => {
      try {
        throw new Error('Blah')
      } catch (err) {
        env['tsgix.stacktrace.error'] = err
      }
      return respond(env)
    }

    it('keeps the 500 response the app made without force', async () => {
      await testApp(stackTrace({ noPrintErrors: true })(app), async (fetch) => {
        const res = await fetch('/')
        expect(res.status).toBe(500)
        expect(await res.text()).toBe('Fancy Error')
      })
    })

    it('replaces it with the recorded trace with force', async () => {
      await testApp(stackTrace({ force: true, noPrintErrors: true })(app), async (fetch) => {
        const res = await fetch('/')
        expect(res.status).toBe(500)
        const text = await res.text()
        expect(text).toMatch(/^Error: Blah/)
        expect(text).not.toContain('Fancy')
      })
    })
  })

  it('with force, shows the trace of a 5xx HttpError that HTTPExceptions answered', async () => {
    const app = stackTrace({ force: true, noPrintErrors: true })(
      httpExceptions()(() => {
        throw new HttpError(500, 'db down')
      }),
    )
    await testApp(app, async (fetch) => {
      expect(await (await fetch('/')).text()).toMatch(/^HttpError: db down\n\s+at /)
    })
  })

  it('with force, leaves a 500 alone when no error was recorded', async () => {
    const app = stackTrace({ force: true })(() => [500, ['Content-Type', 'text/plain'], ['mine']])
    await testApp(app, async (fetch) => {
      expect(await (await fetch('/')).text()).toBe('mine')
    })
  })

  it('refuses to be built in production unless allowed', () => {
    process.env.NODE_ENV = 'production'
    expect(() => stackTrace()).toThrow(TypeError)
    expect(() => stackTrace()).toThrow(/StackTrace: .*allowInProduction/)
    expect(typeof stackTrace({ allowInProduction: true })).toBe('function')
  })

  it.each([
    [{ force: 'yes' }, /StackTrace: option 'force' must be a boolean/],
    [{ noPrintErrors: 1 }, /StackTrace: option 'noPrintErrors' must be a boolean/],
    [{ no_print_errors: true }, /StackTrace: unknown option 'no_print_errors'/],
  ])('rejects bad options %o', (options, message) => {
    expect(() => stackTrace(options as never)).toThrow(TypeError)
    expect(() => stackTrace(options as never)).toThrow(message)
  })
})
