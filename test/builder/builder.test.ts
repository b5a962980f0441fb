import { describe, expect, it } from 'vitest'
import { builder, enable, enableIf, mount } from '../../builder/index.js'
import { headerGet, headerSet } from '../../src/headers.js'
import { checkOptions, optionString } from '../../src/options.js'
import { requestEnv } from '../../src/testing/index.js'
import type { App, Middleware, Triple } from '../../src/types.js'

async function call(app: App, url: string, extra?: Record<string, unknown>): Promise<Triple> {
  const res = await app(requestEnv({ url, ...extra }))
  if (typeof res === 'function') throw new Error('unexpected delayed response')
  return res
}

const text = (t: Triple) => (t[2] as string[]).join('')

const named =
  (name: string): App =>
  (env) => [200, ['Content-Type', 'text/plain'], [`${name}|${env.SCRIPT_NAME}|${env.PATH_INFO}`]]

const ok: App = () => [200, ['Content-Type', 'text/plain'], ['ok']]

/** Plack's XFramework, as a user factory that validates its options. */
interface XFrameworkOptions {
  readonly framework: string
}
function xFramework(options: XFrameworkOptions): Middleware {
  const opts = checkOptions('XFramework', options, ['framework'])
  const framework = optionString('XFramework', opts, 'framework', { required: true })
  return (app) => async (env) => {
    const res = (await app(env)) as Triple
    headerSet(res[1], 'X-Framework', framework)
    return res
  }
}

/** Plack's Runtime, as a parameterless factory. */
const runtime = (): Middleware => (app) => async (env) => {
  const res = (await app(env)) as Triple
  res[1].push('X-Runtime', '0.001')
  return res
}

/** Records the order layers see the request and the response in. */
function tracer(name: string, log: string[]): Middleware {
  return (app) => async (env) => {
    log.push(`${name}>`)
    const res = await app(env)
    log.push(`<${name}`)
    return res
  }
}

describe('builder (Plack builder.t, oo_interface.t)', () => {
  it('builds an app from a single mount', async () => {
    const app = builder(mount('/', () => [200, ['Content-Type', 'text/plain'], ['Hello']]))
    expect(typeof app).toBe('function')
    expect(text(await call(app, 'http://localhost/'))).toBe('Hello')
  })

  it.each([
    [
      'enable + enable + mount',
      () => builder(enable(runtime), enable(xFramework, { framework: 'tsgi' }), mount('/app/foo/bar', ok)),
    ],
    [
      'enable + enable + app',
      () =>
        builder(
          enable(runtime),
          enable(xFramework, { framework: 'tsgi' }),
          builder(mount('/app/foo/bar', ok)),
        ),
    ],
    [
      'enableIf on HTTP_HOST + enable + mount',
      () =>
        builder(
          enableIf((env) => env.HTTP_HOST === 'localhost', runtime),
          enable(xFramework, { framework: 'tsgi' }),
          mount('/app/foo/bar', ok),
        ),
    ],
  ])('%s', async (_, make) => {
    const res = await call(make(), 'http://localhost/app/foo/bar')
    expect(headerGet(res[1], 'X-Runtime')).toBeTruthy()
    expect(headerGet(res[1], 'X-Framework')).toBe('tsgi')
    expect(text(res)).toBe('ok')
  })

  it('makes the first enable the outermost layer', async () => {
    const log: string[] = []
    const app = builder(enable(tracer('a', log)), enable(tracer('b', log)), enable(tracer('c', log)), ok)
    await call(app, 'http://localhost/')
    expect(log).toEqual(['a>', 'b>', 'c>', '<c', '<b', '<a'])
  })

  it('wraps the URLMap of the mounts, wherever the enable parts are', async () => {
    const log: string[] = []
    const app = builder(mount('/x', named('x')), enable(tracer('a', log)), mount('/', named('root')))
    expect(text(await call(app, 'http://localhost/x/y'))).toBe('x|/x|/y')
    expect(text(await call(app, 'http://localhost/z'))).toBe('root||/z')
    expect(log).toEqual(['a>', '<a', 'a>', '<a'])
  })

  it('nests builders', async () => {
    const log: string[] = []
    const inner = builder(enable(tracer('inner', log)), named('app'))
    const app = builder(enable(tracer('outer', log)), mount('/in', inner))
    expect(text(await call(app, 'http://localhost/in/side'))).toBe('app|/in|/side')
    expect(log).toEqual(['outer>', 'inner>', '<inner', '<outer'])
  })

  it('takes a middleware directly, and a factory with no parameters', async () => {
    const direct: Middleware = (app) => async (env) => {
      const res = (await app(env)) as Triple
      res[1].push('X-Direct', '1')
      return res
    }
    const res = await call(builder(enable(direct), enable(runtime), ok), 'http://localhost/')
    expect(headerGet(res[1], 'X-Direct')).toBe('1')
    expect(headerGet(res[1], 'X-Runtime')).toBe('0.001')
  })

  it('returns the app itself when there are no layers', () => {
    expect(builder(ok)).toBe(ok)
  })
})

describe('builder with mount (Plack urlmap_builder.t)', () => {
  const app = builder(
    mount('/', named('app1')),
    mount('/foo', builder(enable(xFramework, { framework: 'Bar' }), named('app2'))),
    mount('/foobar', builder(named('app3'))),
    mount('http://bar.example.com/', named('app4')),
  )

  it('runs the inner builder of /foo', async () => {
    const res = await call(app, 'http://localhost/foo')
    expect(headerGet(res[1], 'X-Framework')).toBe('Bar')
    expect(text(res)).toBe('app2|/foo|')
  })

  it.each([
    ['http://localhost/', 'app1||/'],
    ['http://localhost/foo/bar', 'app2|/foo|/bar'],
    ['http://localhost/foox', 'app1||/foox'],
    ['http://localhost/foobar', 'app3|/foobar|'],
    ['http://localhost/foobar/baz', 'app3|/foobar|/baz'],
    ['http://bar.example.com/', 'app4||/'],
    ['http://bar.example.com/foo', 'app4||/foo'],
  ])('%s → %s', async (url, expected) => {
    expect(text(await call(app, url))).toBe(expected)
  })
})

describe('builder mount parameters', () => {
  const show: App = (env) => [
    200,
    [],
    [`${env.SCRIPT_NAME}|${env.PATH_INFO}|${JSON.stringify(env['tsgix.route.params'] ?? null)}`],
  ]

  it('moves a matched pattern prefix into SCRIPT_NAME and its params into tsgix.route.params', async () => {
    const app = builder(mount('/users/:id', show), mount('/', show))
    expect(text(await call(app, 'http://x/users/42/posts'))).toBe('/users/42|/posts|{"id":"42"}')
    expect(text(await call(app, 'http://x/users'))).toBe('|/users|null')
  })

  it('merges params across nested builders', async () => {
    const app = builder(mount('/orgs/:org', builder(mount('/repos/:repo', show))))
    expect(text(await call(app, 'http://x/orgs/tsgi/repos/core/issues'))).toBe(
      '/orgs/tsgi/repos/core|/issues|{"org":"tsgi","repo":"core"}',
    )
    expect((await call(app, 'http://x/orgs/tsgi/other'))[0]).toBe(404)
  })
})

describe('builder errors (Plack mount.t, oo_interface.t)', () => {
  it('rejects mount together with a trailing app', () => {
    expect(() => builder(mount('/foo', ok), ok)).toThrow(TypeError)
    expect(() => builder(mount('/foo', ok), ok)).toThrow(/mount\(\.\.\.\) and a trailing app.*'\/foo'/)
  })

  it.each([
    ['no parts', () => builder()],
    ['only layers', () => builder(enable(runtime))],
  ])('rejects %s: nothing to build', (_, make) => {
    expect(make).toThrow(TypeError)
    expect(make).toThrow(/builder: no application to build/)
  })

  it('rejects an app that is not last', () => {
    const parts = [ok, enable(runtime)] as unknown as Parameters<typeof builder>
    expect(() => builder(...parts)).toThrow(/only the last part may be an app, but part 1 of 2/)
  })

  it('rejects a part that is not a part', () => {
    const parts = [{}, ok] as unknown as Parameters<typeof builder>
    expect(() => builder(...parts)).toThrow(/builder: part 1 is not enable/)
  })

  it('rejects an unknown built-in name, naming it', () => {
    expect(() => enable('NoSuchThing' as 'Lint')).toThrow(TypeError)
    expect(() => enable('NoSuchThing' as 'Lint')).toThrow(/enable: unknown middleware 'NoSuchThing'/)
    expect(() => enableIf(() => true, 'Nope' as 'Lint')).toThrow(/unknown middleware 'Nope'/)
  })

  it('rejects unknown option keys of a built-in, naming the middleware', () => {
    const bad = { condition: () => true, builder: (a: App) => a, extra: 1 }
    expect(() => enable('Conditional', bad)).toThrow(TypeError)
    expect(() => enable('Conditional', bad)).toThrow(/Conditional: unknown option 'extra'/)
    expect(() => enable('Lint', { bogus: true } as never)).toThrow(/Lint: unknown option/)
  })

  it("rejects a user factory's bad options through the factory's own check", () => {
    expect(() => enable(xFramework, { framework: 'x', other: 1 } as never)).toThrow(
      /XFramework: unknown option 'other'/,
    )
    expect(() => enable(xFramework, {} as never)).toThrow(/XFramework: option 'framework' is required/)
  })

  it('rejects what is neither a name nor a function', () => {
    expect(() => enable(42 as unknown as Middleware)).toThrow(/enable: expected a middleware name/)
    expect(() => enableIf('x' as unknown as () => boolean, runtime)).toThrow(/enableIf: the condition/)
  })

  it('rejects a factory that does not return a middleware', () => {
    const notAFactory = (_: { a: number }) => 'nope' as unknown as Middleware
    expect(() => enable(notAFactory, { a: 1 })).toThrow(/factory notAFactory did not return a middleware/)
  })

  it('rejects a middleware that does not return an app, naming it', () => {
    const broken: Middleware = function broken(_app) {
      return undefined as unknown as App
    }
    expect(() => builder(enable(broken), ok)).toThrow(/middleware broken did not return an app/)
  })

  it('rejects bad mount locations and apps at once', () => {
    expect(() => mount('foo', ok)).toThrow(/mount: location 'foo' must start with '\/'/)
    expect(() => mount('/foo', 'x' as unknown as App)).toThrow(/mount: the app mounted at '\/foo'/)
  })
})
