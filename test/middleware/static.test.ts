import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type StaticFilesOptions, staticFiles } from '../../middleware/static.js'
import { testApp } from '../../src/testing/index.js'
import type { App, AppResult, Env } from '../../src/types.js'
import { type Fixture, makeFixture, rawGet, SECRET } from '../app/file-fixtures.js'

let fx: Fixture
beforeAll(() => {
  fx = makeFixture()
  writeFileSync(join(fx.root, 'static.foo'), 'bar\n')
})
afterAll(() => fx.cleanup())

const ok: App = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '2'], ['ok']]

/** Plack's t/Plack-Middleware/static.t stack, outermost first. */
function plackStack(): App {
  const layers: StaticFilesOptions[] = [
    { path: (p) => p.startsWith('/share/') && p.slice('/share/'.length), root: fx.root },
    {
      path: (p, env) => env.PATH_INFO.startsWith('/more_share/') && p.replace(/^\/more_share\//, ''),
      root: fx.root,
    },
    {
      path: (p) => p.startsWith('/share-pass/') && p.slice('/share-pass/'.length),
      root: fx.root,
      passThrough: true,
    },
    { path: /\.(t|PL|txt)$/i, root: fx.root },
    {
      path: /\.foo$/i,
      root: fx.root,
      contentType: (p) => (p.endsWith('.foo') ? 'text/x-fooo' : 'x/y').slice(0, -1),
    },
  ]
  return layers.reduceRight<App>((app, opts) => staticFiles(opts)(app), ok)
}

describe.each(['MockHTTP', 'Server'] as const)(
  'Static: Plack t/Plack-Middleware/static.t through %s',
  (impl) => {
    it('serves, refuses traversal, 404s, rewrites, passes through, sets types', async () => {
      await testApp(
        plackStack(),
        async (fetch) => {
          let res = await fetch('/hello.txt')
          expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
          expect(await res.text()).toBe('Hello\n')
          res = await fetch('/..%2f..%2f..%2fetc%2fpasswd.t')
          expect(res.status).toBe(403)
          await res.text()
          res = await fetch('/..%2fMakefile.PL')
          expect(res.status).toBe(403)
          await res.text()
          res = await fetch('/foo/not_found.t')
          expect(res.status).toBe(404)
          expect(await res.text()).toBe('not found')
          res = await fetch('/share/face.jpg')
          expect(res.headers.get('content-type')).toBe('image/jpeg')
          await res.arrayBuffer()
          res = await fetch('/more_share/face.jpg')
          expect(res.headers.get('content-type')).toBe('image/jpeg')
          await res.arrayBuffer()
          res = await fetch('/share-pass/faceX.jpg')
          expect(res.status).toBe(200)
          expect(await res.text()).toBe('ok')
          res = await fetch('/static.foo')
          expect(res.headers.get('content-type')).toBe('text/x-foo; charset=utf-8')
          expect(await res.text()).toBe('bar\n')
          res = await fetch('/other')
          expect(await res.text()).toBe('ok')
        },
        { impl },
      )
    })
  },
)

describe('Static: env (Plack t/Plack-Middleware/static_env.t)', () => {
  it('runs File on the same env, restoring PATH_INFO afterwards', async () => {
    const seen: string[] = []
    const inner = staticFiles({
      path: (p) => p.startsWith('/s/') && p.slice(2),
      root: fx.root,
      passThrough: true,
    })((env) => {
      seen.push(`${env.PATH_INFO} ${env.REMOTE_USER}`)
      return ok(env)
    })
    const outer: App = async (env) => {
      env.REMOTE_USER = 'admin'
      const res = await inner(env)
      seen.push(`after ${env.PATH_INFO}`)
      return res
    }
    await testApp(outer, async (fetch) => {
      expect(await (await fetch('/s/hello.txt')).text()).toBe('Hello\n')
      expect(await (await fetch('/s/missing.txt')).text()).toBe('ok')
    })
    expect(seen).toEqual(['after /s/hello.txt', '/s/missing.txt admin', 'after /s/missing.txt'])
  })
})

describe('Static: traversal through the real server', () => {
  it.each([
    ['/sub/../secret.txt', [403, 404]],
    ['/sub/..%2f..%2foutside/secret.txt', [403]],
    ['/sub/%2e%2e/%2e%2e/outside/secret.txt', [403, 404]],
    ['/sub/%252e%252e/%252e%252e/outside/secret.txt', [403]],
    ['/sub/..%5c..%5coutside%5csecret.txt', [403]],
    ['/sub/..%00/secret.txt', [400]],
    ['/sub/../escape.txt', [403, 404]],
  ])('%s is refused, with passThrough too', async (raw, statuses) => {
    for (const passThrough of [false, true]) {
      const app = staticFiles({ path: '/sub/', root: fx.root, passThrough })(ok)
      await testApp(
        app,
        async (_, { url }) => {
          const res = await rawGet(url, raw)
          expect(res.body).not.toContain(SECRET)
          // A path the client can reach the app with anyway may pass through (never a file outside).
          if (res.body !== 'ok') expect(statuses).toContain(res.status)
        },
        { impl: 'Server' },
      )
    }
  })

  it.each([
    ['../outside/secret.txt'],
    ['/sub/../../outside/secret.txt'],
    ['..\\outside\\secret.txt'],
    ['/escape.txt'],
    ['/escape-dir/secret.txt'],
  ])('a rewrite to %j is refused by File', async (target) => {
    await testApp(staticFiles({ path: () => target, root: fx.root })(ok), async (fetch) => {
      const res = await fetch('/anything')
      expect([403, 404]).toContain(res.status)
      expect(await res.text()).not.toContain(SECRET)
    })
  })
})

describe('Static: path forms and methods', () => {
  const cases: [string, StaticFilesOptions['path'], string, string][] = [
    ['a string prefix', '/sub/', '/sub/inner.txt', 'inner'],
    ['a string prefix (miss)', '/sub/', '/hello.txt', 'ok'],
    ['a global RegExp, twice', /\.txt$/g, '/hello.txt', 'Hello\n'],
    ['a function returning true', () => true, '/hello.txt', 'Hello\n'],
    ['a function returning false', () => false, '/hello.txt', 'ok'],
    ['a function returning a path', () => '/sub/inner.txt', '/anything', 'inner'],
    ['a function returning a path without slash', () => 'hello.txt', '/anything', 'Hello\n'],
  ]
  it.each(cases)('%s', async (_, path, url, text) => {
    await testApp(staticFiles({ path, root: fx.root })(ok), async (fetch) => {
      expect(await (await fetch(url)).text()).toBe(text)
      expect(await (await fetch(url)).text()).toBe(text)
    })
  })

  it.each([
    [false, 405],
    [true, 200],
  ])('POST with passThrough %s → %i', async (passThrough, status) => {
    await testApp(staticFiles({ path: '/', root: fx.root, passThrough })(ok), async (fetch) => {
      const res = await fetch('/hello.txt', { method: 'POST', body: 'x' })
      expect(res.status).toBe(status)
      await res.text()
    })
  })

  it('passes the File options on (precompressed, etag, encoding)', async () => {
    const mw = staticFiles({ path: '/', root: fx.root, precompressed: true, etag: true, encoding: 'latin1' })
    await testApp(mw(ok), async (fetch) => {
      const res = await fetch('/style.css', { headers: { 'accept-encoding': 'gzip' } })
      expect(res.headers.get('content-encoding')).toBe('gzip')
      expect(res.headers.get('content-type')).toBe('text/css; charset=latin1')
      expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+-gzip"$/)
      await res.arrayBuffer()
    })
  })
})

const forms: [string, App][] = [
  ['an array body', () => [200, ['Content-Type', 'text/plain'], ['a', 'b']]],
  [
    'an async-iterable body',
    () => [
      200,
      ['Content-Type', 'text/plain'],
      (async function* () {
        yield 'a'
        yield 'b'
      })(),
    ],
  ],
  [
    'a writer',
    (): AppResult => async (respond) => {
      const w = respond([200, ['Content-Type', 'text/plain']])
      await w.write('a')
      await w.write('b')
      await w.close()
    },
  ],
]

describe('Static leaves the app’s responses alone', () => {
  it.each(forms)('%s', async (_, app) => {
    await testApp(
      staticFiles({ path: (p) => p.startsWith('/static/') && p.slice(7), root: fx.root, passThrough: true })(
        app,
      ),
      async (fetch) => {
        expect(await (await fetch('/other')).text()).toBe('ab')
        expect(await (await fetch('/static/nothing-here')).text()).toBe('ab')
        expect(await (await fetch('/static/hello.txt')).text()).toBe('Hello\n')
      },
    )
  })
})

describe('Static options', () => {
  it.each([
    [{}, /Static: option 'path' is required/],
    [{ path: 1 }, /Static: option 'path' is required/],
    [{ path: '' }, /Static: option 'path' must not be an empty string/],
    [{ path: '/', nope: 1 }, /Static: unknown option 'nope'/],
    [{ path: '/', root: 5 }, /Static: option 'root' must be a string/],
    [{ path: '/', passThrough: 'yes' }, /Static: option 'passThrough' must be a boolean/],
    [{ path: '/', contentType: 'not a type' }, /Static: option 'contentType'/],
    [{ path: '/', encoding: 'utf 8' }, /Static: option 'encoding'/],
    [{ path: '/', precompressed: ['deflate'] }, /Static: option 'precompressed'/],
    [{ path: '/', etag: 1 }, /Static: option 'etag' must be a boolean/],
    ['str', /Static: options must be an object/],
  ])('rejects %o', (opts, message) => {
    expect(() => staticFiles(opts as never)).toThrow(message)
  })

  it('does not touch the env when the path does not match', async () => {
    const env: Partial<Env> = {}
    await testApp(
      staticFiles({ path: '/s/', root: fx.root })((e) => {
        Object.assign(env, { PATH_INFO: e.PATH_INFO })
        return ok(e)
      }),
      async (fetch) => {
        await (await fetch('/x/y')).text()
      },
    )
    expect(env.PATH_INFO).toBe('/x/y')
  })
})
