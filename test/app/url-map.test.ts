import { describe, expect, it } from 'vitest'
import { URLMap, urlMap } from '../../src/app/url-map.js'
import { requestEnv } from '../../src/testing/index.js'
import type { App, AppResult, HeaderList, Responder, Writer } from '../../src/types.js'
import { callTriple } from '../middleware/forms.js'

async function body(app: App, url: string, extra?: Record<string, unknown>): Promise<string> {
  const [, , b] = await callTriple(app, requestEnv({ url, ...extra }))
  return (b as string[]).join('')
}

/** Answers `name|SCRIPT_NAME|PATH_INFO`, as the apps of Plack's urlmap tests. */
const named =
  (name: string): App =>
  (env) => [200, ['Content-Type', 'text/plain'], [`${name}|${env.SCRIPT_NAME}|${env.PATH_INFO}`]]

describe('URLMap (Plack urlmap.t)', () => {
  const map = new URLMap()
  map.map('/', named('app1'))
  map.map('/foo', named('app2'))
  map.map('/foobar', named('app3'))
  map.map('http://bar.example.com/', named('app4'))
  const app = map.toApp()

  it.each([
    ['http://localhost/', 'app1||/'],
    ['http://localhost/foo', 'app2|/foo|'],
    ['http://localhost/foo/bar', 'app2|/foo|/bar'],
    ['http://localhost/foox', 'app1||/foox'],
    ['http://localhost/foox/bar', 'app1||/foox/bar'],
    ['http://localhost/foobar', 'app3|/foobar|'],
    ['http://localhost/foobar/baz', 'app3|/foobar|/baz'],
    ['http://localhost/bar/foo', 'app1||/bar/foo'],
    ['http://bar.example.com/', 'app4||/'],
    ['http://bar.example.com/foo', 'app4||/foo'],
    ['http://localhost/foo/', 'app2|/foo|/'],
  ])('%s → %s', async (url, expected) => {
    expect(await body(app, url)).toBe(expected)
  })

  it('keeps matching the root location on repeated calls', async () => {
    expect(await body(app, 'http://localhost/')).toBe('app1||/')
    expect(await body(app, 'http://localhost/')).toBe('app1||/')
  })
})

describe('URLMap hosts and ports (Plack urlmap_ports.t)', () => {
  const app = urlMap({ 'http://127.0.0.1/': named('app1'), '/': named('app2') })

  it('strips a Host port equal to SERVER_PORT before comparing hosts', async () => {
    expect(await body(app, 'http://127.0.0.1:5000/')).toBe('app1||/')
  })

  it.each([
    ['HTTP_HOST matches', { HTTP_HOST: 'example.com', SERVER_NAME: 'other' }, 'host|/x|'],
    [
      'HTTP_HOST with SERVER_PORT matches',
      { HTTP_HOST: 'example.com:8080', SERVER_PORT: '8080' },
      'host|/x|',
    ],
    ['SERVER_NAME matches', { HTTP_HOST: undefined, SERVER_NAME: 'example.com' }, 'host|/x|'],
    ['host compares case-insensitively', { HTTP_HOST: 'EXAMPLE.com', SERVER_NAME: 'x' }, 'host|/x|'],
    ['other port in Host does not match', { HTTP_HOST: 'example.com:81', SERVER_NAME: 'x' }, 'any|/x|'],
    ['other host falls through to host-less', { HTTP_HOST: 'www.example.com', SERVER_NAME: 'x' }, 'any|/x|'],
  ])('%s', async (_, extra, expected) => {
    const app = urlMap({ '/x': named('any'), 'http://example.com/x': named('host') })
    expect(await body(app, 'http://localhost/x', extra)).toBe(expected)
  })

  it('matches a location host with a port against the Host header as sent', async () => {
    const app = urlMap({ 'http://example.com:8080/': named('port'), '/': named('any') })
    expect(await body(app, 'http://example.com:8080/')).toBe('port||/')
    expect(await body(app, 'http://example.com:8080/', { HTTP_HOST: 'example.com:9090' })).toBe('any||/')
  })

  it.each([
    ['http://example.com/a', 'http'],
    ['https://example.com/a', 'https'],
    ['//example.com/a', 'scheme-less'],
  ])('accepts the host form %s (%s)', async (location) => {
    const app = urlMap({ [location]: named('h'), '/': named('any') })
    expect(await body(app, 'http://example.com/a/b')).toBe('h|/a|/b')
    expect(await body(app, 'http://other.com/a/b')).toBe('any||/a/b')
  })

  it('accepts a host without a path as the host root', async () => {
    const app = urlMap({ 'http://example.com': named('h'), '/': named('any') })
    expect(await body(app, 'http://example.com/z')).toBe('h||/z')
  })

  it('tries host mappings before host-less ones, even with shorter paths', async () => {
    const map = new URLMap()
    map.map('/long/path', named('path'))
    map.map('http://example.com/', named('host'))
    expect(await body(map.toApp(), 'http://example.com/long/path')).toBe('host||/long/path')
  })
})

describe('URLMap matching', () => {
  it('matches the longest path first, whatever the order of map calls', async () => {
    const map = new URLMap().map('/a', named('a')).map('/a/b/c', named('abc')).map('/a/b', named('ab'))
    const app = map.toApp()
    expect(await body(app, 'http://x/a/b/c/d')).toBe('abc|/a/b/c|/d')
    expect(await body(app, 'http://x/a/b/x')).toBe('ab|/a/b|/x')
    expect(await body(app, 'http://x/a/bc')).toBe('a|/a|/bc')
  })

  it('keeps the first mapping of a duplicated location', async () => {
    const app = new URLMap().map('/a', named('first')).map('/a/', named('second')).toApp()
    expect(await body(app, 'http://x/a')).toBe('first|/a|')
  })

  it.each([
    ['/foo', '/foo', 'm|/foo|'],
    ['/foo', '/foo/', 'm|/foo|/'],
    ['/foo', '/foo/bar', 'm|/foo|/bar'],
    ['/foo', '/foobar', 'Not Found'],
    ['/foo', '/fo', 'Not Found'],
    ['/foo', '/Foo', 'Not Found'],
    ['/foo/', '/foo', 'm|/foo|'],
    ['/foo/', '/foo/bar', 'm|/foo|/bar'],
    ['/', '', 'm||'],
    ['/', '/anything', 'm||/anything'],
    ['/a.b', '/a.b/c', 'm|/a.b|/c'],
    ['/a.b', '/axb', 'Not Found'],
    ['/a+b(c)', '/a+b(c)/d', 'm|/a+b(c)|/d'],
  ])('location %s, PATH_INFO %s → %s', async (location, pathInfo, expected) => {
    const app = urlMap({ [location]: named('m') })
    const [status, headers, b] = await callTriple(app, requestEnv({ url: 'http://x/', PATH_INFO: pathInfo }))
    expect((b as string[]).join('')).toBe(expected)
    expect(status).toBe(expected === 'Not Found' ? 404 : 200)
    if (status === 404) expect(headers).toEqual(['Content-Type', 'text/plain', 'Content-Length', '9'])
  })

  it('appends to an existing SCRIPT_NAME', async () => {
    const app = urlMap({ '/b': named('b') })
    expect(await body(app, 'http://x/b/c', { SCRIPT_NAME: '/a', PATH_INFO: '/b/c' })).toBe('b|/a/b|/c')
  })

  it('answers 404 Not Found when nothing matches', async () => {
    const app = urlMap({ '/foo': named('foo'), 'http://example.com/': named('host') })
    expect(await callTriple(app, requestEnv({ url: 'http://localhost/bar' }))).toEqual([
      404,
      ['Content-Type', 'text/plain', 'Content-Length', '9'],
      ['Not Found'],
    ])
  })

  it('answers 404 with no mappings at all', async () => {
    expect((await callTriple(new URLMap().toApp(), requestEnv({ url: 'http://x/' })))[0]).toBe(404)
  })

  it('compiles at toApp: later map calls do not change a built app', async () => {
    const map = new URLMap().map('/a', named('a'))
    const app = map.toApp()
    map.map('/a/b', named('ab'))
    expect(map.size).toBe(2)
    expect(await body(app, 'http://x/a/b')).toBe('a|/a|/b')
    expect(await body(map.toApp(), 'http://x/a/b')).toBe('ab|/a/b|')
  })

  it.each([
    ['foo', /must start with '\/'/],
    ['', /must start with '\/'/],
    ['ftp://example.com/', /must start with '\/'/],
    ['http:///path', /empty host/],
    ['/a/:', /bad location pattern/],
  ])('rejects the location %j with a TypeError', (location, message) => {
    expect(() => new URLMap().map(location, named('x'))).toThrow(TypeError)
    expect(() => new URLMap().map(location, named('x'))).toThrow(message)
  })

  it('rejects an app that is not a function', () => {
    expect(() => new URLMap().map('/', 'nope' as unknown as App)).toThrow(/URLMap: the app mapped at '\/'/)
  })
})

describe('URLMap env handling', () => {
  it('shares the env with the sub app and restores SCRIPT_NAME and PATH_INFO (Plack urlmap_env.t)', async () => {
    const inner: App = (env) => {
      env.REMOTE_USER = 'admin'
      return [200, [], [`Hello ${env.REMOTE_USER}`]]
    }
    const app = urlMap({ '/foo': inner })
    const env = requestEnv({ url: 'http://localhost/foo/x' })
    const [, , b] = await callTriple(app, env)
    expect(b).toEqual(['Hello admin'])
    expect(env.REMOTE_USER).toBe('admin')
    expect(env.SCRIPT_NAME).toBe('')
    expect(env.PATH_INFO).toBe('/foo/x')
  })

  it('restores after a promise resolves, not before', async () => {
    let seen = ''
    let resolve!: (r: AppResult) => void
    const inner: App = () => new Promise<AppResult>((r) => (resolve = r))
    const env = requestEnv({ url: 'http://localhost/foo/x' })
    const pending = urlMap({ '/foo': inner })(env)
    seen = `${env.SCRIPT_NAME}|${env.PATH_INFO}`
    resolve([200, [], ['ok']])
    await pending
    expect(seen).toBe('/foo|/x')
    expect(`${env.SCRIPT_NAME}|${env.PATH_INFO}`).toBe('|/foo/x')
  })

  it('restores after a rejected promise and after a throw', async () => {
    const env = requestEnv({ url: 'http://localhost/foo/x' })
    await expect(urlMap({ '/foo': async () => Promise.reject(new Error('boom')) })(env)).rejects.toThrow(
      'boom',
    )
    expect(env.PATH_INFO).toBe('/foo/x')
    const env2 = requestEnv({ url: 'http://localhost/foo/x' })
    expect(() =>
      urlMap({
        '/foo': () => {
          throw new Error('sync boom')
        },
      })(env2),
    ).toThrow('sync boom')
    expect(`${env2.SCRIPT_NAME}|${env2.PATH_INFO}`).toBe('|/foo/x')
  })

  it('restores when a delayed response responds, and passes the writer through', async () => {
    const inner: App = (env) => async (respond) => {
      const before = `${env.SCRIPT_NAME}|${env.PATH_INFO}`
      const writer = respond([200, ['Content-Type', 'text/plain']])
      await writer.write(`${before};${env.SCRIPT_NAME}|${env.PATH_INFO}`)
      await writer.close()
    }
    const env = requestEnv({ url: 'http://localhost/foo/x' })
    const res = await urlMap({ '/foo': inner })(env)
    expect(typeof res).toBe('function')
    const chunks: string[] = []
    let head: HeaderList | undefined
    const responder = ((r: [number, HeaderList]) => {
      head = r[1]
      const writer: Writer = {
        write: async (c) => void chunks.push(String(c)),
        close: async () => {},
      }
      return writer
    }) as Responder
    await (res as (r: Responder) => Promise<void>)(responder)
    expect(head).toEqual(['Content-Type', 'text/plain'])
    expect(chunks).toEqual(['/foo|/x;|/foo/x'])
  })

  it('nests: an inner map extends SCRIPT_NAME again and both levels restore', async () => {
    const inner = urlMap({ '/b': named('inner') })
    const app = urlMap({ '/a': inner })
    const env = requestEnv({ url: 'http://x/a/b/c' })
    expect((await callTriple(app, env))[2]).toEqual(['inner|/a/b|/c'])
    expect(`${env.SCRIPT_NAME}|${env.PATH_INFO}`).toBe('|/a/b/c')
  })
})

describe('URLMap path parameters', () => {
  const params: App = (env) => [
    200,
    [],
    [`${env.SCRIPT_NAME}|${env.PATH_INFO}|${JSON.stringify(env['tsgix.route.params'] ?? null)}`],
  ]

  it.each([
    ['/users/:id', '/users/42', '/users/42||{"id":"42"}'],
    ['/users/:id', '/users/42/posts', '/users/42|/posts|{"id":"42"}'],
    ['/users/:id', '/users/42/', '/users/42|/|{"id":"42"}'],
    ['/users/:id/', '/users/42/x', '/users/42|/x|{"id":"42"}'],
    ['/users/:id', '/users/a b', '/users/a b||{"id":"a b"}'],
    ['/users/:id', '/users/a%20b', '/users/a%20b||{"id":"a%20b"}'],
    ['/files/*rest', '/files/a/b', '/files/a/b||{"rest":["a","b"]}'],
    ['/v{:version}/api', '/v2/api/x', '/v2/api|/x|{"version":"2"}'],
    ['/v{:version}/api', '/v/api', '/v/api||{}'],
  ])('%s against %s → %s', async (location, pathInfo, expected) => {
    const app = urlMap({ [location]: params })
    expect(await body(app, 'http://x/', { PATH_INFO: pathInfo })).toBe(expected)
  })

  it.each([
    ['/users/:id', '/users'],
    ['/users/:id', '/users/'],
    ['/users/:id', '/Users/42'],
    ['/users/:id/posts', '/users/42/postsx'],
  ])('%s does not match %s', async (location, pathInfo) => {
    const app = urlMap({ [location]: params })
    expect((await callTriple(app, requestEnv({ url: 'http://x/', PATH_INFO: pathInfo })))[0]).toBe(404)
  })

  it('merges params of nested mounts and restores the outer ones afterwards', async () => {
    const seen: unknown[] = []
    const inner: App = (env) => {
      seen.push({ ...env['tsgix.route.params'] })
      return params(env)
    }
    const middle: App = (env) => {
      const before = { ...env['tsgix.route.params'] }
      const res = urlMap({ '/posts/:postId': inner, '/tags/:id': inner })(env)
      seen.push(before, { ...env['tsgix.route.params'] })
      return res
    }
    const app = urlMap({ '/users/:id': middle })
    const env = requestEnv({ url: 'http://x/users/7/posts/9/edit' })
    expect((await callTriple(app, env))[2]).toEqual(['/users/7/posts/9|/edit|{"id":"7","postId":"9"}'])
    expect(seen).toEqual([{ id: '7', postId: '9' }, { id: '7' }, { id: '7' }])
    expect('tsgix.route.params' in env).toBe(false)

    // An inner param of the same name wins inside and the outer value comes back after.
    const env2 = requestEnv({ url: 'http://x/users/7/tags/t1' })
    expect((await callTriple(app, env2))[2]).toEqual(['/users/7/tags/t1||{"id":"t1"}'])
  })

  it('leaves params alone for literal locations and restores pre-existing ones', async () => {
    const app = urlMap({ '/plain': params, '/p/:x': params })
    const env = requestEnv({ url: 'http://x/plain/y', 'tsgix.route.params': { outer: '1' } })
    expect((await callTriple(app, env))[2]).toEqual(['/plain|/y|{"outer":"1"}'])
    const env2 = requestEnv({ url: 'http://x/p/2', 'tsgix.route.params': { outer: '1' } })
    expect((await callTriple(app, env2))[2]).toEqual(['/p/2||{"outer":"1","x":"2"}'])
    expect(env2['tsgix.route.params']).toEqual({ outer: '1' })
  })
})
