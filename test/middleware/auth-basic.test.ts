import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { builder, enableIf } from '../../builder/index.js'
import { type AuthBasicOptions, authBasic, parseCredentials } from '../../middleware/auth-basic.js'
import { testApp } from '../../src/testing/index.js'
import type { App } from '../../src/types.js'

const hello: App = (env) => [200, ['Content-Type', 'text/plain'], [`Hello ${env.REMOTE_USER ?? ''}`]]
const hasControl = (s: string) => [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`

async function statusAndBody(app: App, path: string, authorization?: string) {
  let out: [number, string] = [0, '']
  await testApp(app, async (fetch) => {
    const res = await fetch(
      path,
      authorization === undefined ? {} : { headers: { Authorization: authorization } },
    )
    out = [res.status, await res.text()]
  })
  return out
}

// Plack's t/Plack-Middleware/auth_basic.t and authen_basic.t.
describe("Auth::Basic: Plack's auth_basic.t", () => {
  const map: Record<string, string> = { admin: 's3cr3t', john: 'foo:bar' }
  const app = authBasic({ authenticator: (user, pass) => Object.hasOwn(map, user) && map[user] === pass })(
    hello,
  )
  it.each([
    [undefined, 401, 'Authorization required'],
    ['Basic YWRtaW46czNjcjN0', 200, 'Hello admin'],
    ['Basic am9objpmb286YmFy', 200, 'Hello john'],
    ['Basic bogus', 401, 'Authorization required'],
  ])('%s → %i', async (authorization, status, body) => {
    expect(await statusAndBody(app, '/', authorization)).toEqual([status, body])
  })
})

// Plack's auth_basic_env.t: the authenticator gets the env.
describe("Auth::Basic: Plack's auth_basic_env.t", () => {
  const app = authBasic({
    authenticator: (user, pass, env) =>
      env.PATH_INFO === '/'
        ? user === 'admin' && pass === 's3cr3t'
        : user === 'user' && pass === 's0m3th1ngel5e',
  })(hello)
  it.each([
    ['/', undefined, 401, 'Authorization required'],
    ['/', 'Basic YWRtaW46czNjcjN0', 200, 'Hello admin'],
    ['/', 'Basic dXNlcjpzMG0zdGgxbmdlbDVl', 401, 'Authorization required'],
    ['/foo', 'Basic YWRtaW46czNjcjN0', 401, 'Authorization required'],
    ['/foo', 'Basic dXNlcjpzMG0zdGgxbmdlbDVl', 200, 'Hello user'],
  ])('%s %s → %i', async (path, authorization, status, body) => {
    expect(await statusAndBody(app, path, authorization)).toEqual([status, body])
  })
})

// Plack's auth_basic_with_path.t, with the path condition as an enableIf.
describe("Auth::Basic: Plack's auth_basic_with_path.t (enableIf)", () => {
  const app = builder(
    enableIf((env) => env.PATH_INFO.startsWith('/restricted'), authBasic, {
      authenticator: (user, pass) => user === 'admin' && pass === 's3cr3t',
    }),
    hello,
  )
  it.each([
    ['/', undefined, 200, 'Hello '],
    ['/stuff', undefined, 200, 'Hello '],
    ['/restricted', undefined, 401, 'Authorization required'],
    ['/restricted', 'Basic YWRtaW46czNjcjN0', 200, 'Hello admin'],
    ['/restricted/stuff', 'Basic YWRtaW46czNjcjN0', 200, 'Hello admin'],
  ])('%s %s → %i', async (path, authorization, status, body) => {
    expect(await statusAndBody(app, path, authorization)).toEqual([status, body])
  })
})

describe('Auth::Basic: the challenge', () => {
  it.each([
    [undefined, 'Basic realm="restricted area"'],
    ['Admin', 'Basic realm="Admin"'],
    ['say "hi" \\o/', 'Basic realm="say \\"hi\\" \\\\o/"'],
  ])('realm %j → %s', async (realm, challenge) => {
    const options: AuthBasicOptions = {
      authenticator: () => false,
      ...(realm === undefined ? {} : { realm }),
    }
    await testApp(authBasic(options)(hello), async (fetch) => {
      const res = await fetch('/')
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe(challenge)
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
      expect(res.headers.get('content-length')).toBe('22')
      expect(await res.text()).toBe('Authorization required')
    })
  })

  it('runs on a real server too, and never calls the app when refused', async () => {
    let calls = 0
    const app = authBasic({ users: { admin: 's3cr3t' } })((env) => {
      calls++
      return hello(env)
    })
    await testApp(
      app,
      async (fetch) => {
        expect((await fetch('/', { headers: { Authorization: basic('admin:wrong') } })).status).toBe(401)
        const ok = await fetch('/', { headers: { Authorization: basic('admin:s3cr3t') } })
        expect(await ok.text()).toBe('Hello admin')
      },
      { impl: 'Server' },
    )
    expect(calls).toBe(1)
  })
})

describe('Auth::Basic: parsing the Authorization header', () => {
  const table: [string | undefined, [string, string] | undefined][] = [
    [undefined, undefined],
    ['', undefined],
    ['Basic', undefined],
    ['Basic ', undefined],
    ['Bearer YWRtaW46czNjcjN0', undefined],
    ['BasicYWRtaW46czNjcjN0', undefined],
    ['Basic YWRtaW46czNjcjN0', ['admin', 's3cr3t']],
    ['basic YWRtaW46czNjcjN0', ['admin', 's3cr3t']],
    ['BASIC   YWRtaW46czNjcjN0  ', ['admin', 's3cr3t']],
    ['Basic YWRtaW46czNjcjN0 extra', undefined],
    ['Basic !!!!', undefined],
    ['Basic YQ', undefined],
    [basic('nocolon'), undefined],
    [basic(':'), ['', '']],
    [basic('john:foo:bar'), ['john', 'foo:bar']],
    [basic('user:'), ['user', '']],
    [basic('jürgen:pässword'), ['jürgen', 'pässword']],
    [`Basic ${Buffer.from('j\xfcrgen:x', 'latin1').toString('base64')}`, ['jürgen', 'x']],
    [basic('evil\nuser:x'), undefined],
    [basic('user:pass\tword'), ['user', 'pass\tword']],
  ]
  it.each(table)('%j → %j', (header, expected) => {
    expect(parseCredentials(header)).toEqual(expected)
  })

  it('never throws, and finds what was encoded (property)', () => {
    fc.assert(
      fc.property(fc.string(), (header) => {
        const got = parseCredentials(header)
        expect(got === undefined || (typeof got[0] === 'string' && typeof got[1] === 'string')).toBe(true)
      }),
    )
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }).filter((u) => !u.includes(':') && !hasControl(u)),
        fc.string({ unit: 'grapheme' }),
        (user, pass) => {
          expect(parseCredentials(basic(`${user}:${pass}`))).toEqual([user, pass])
        },
      ),
    )
  })

  it('answers 401 (never 500) to malformed headers', async () => {
    const app = authBasic({ authenticator: () => true })(hello)
    await testApp(app, async (fetch) => {
      for (const header of ['Basic', 'Basic ====', 'Basic a', 'Digest x', 'Basic \u00ff\u00fe']) {
        const res = await fetch('/', { headers: { Authorization: header } })
        expect(res.status).toBe(401)
      }
    })
  })
})

describe('Auth::Basic: authenticators', () => {
  it('awaits an async authenticator and passes the env', async () => {
    const seen: string[] = []
    const app = authBasic({
      authenticator: async (user, pass, env) => {
        seen.push(`${user}:${pass}@${env.PATH_INFO}`)
        await Promise.resolve()
        return pass === 'ok'
      },
    })(hello)
    expect(await statusAndBody(app, '/x', basic('a:ok'))).toEqual([200, 'Hello a'])
    expect(await statusAndBody(app, '/y', basic('b:no'))).toEqual([401, 'Authorization required'])
    expect(seen).toEqual(['a:ok@/x', 'b:no@/y'])
  })

  it('lets an authenticator failure reach the server as an app failure', async () => {
    const app = authBasic({
      authenticator: () => {
        throw new Error('directory down')
      },
    })(hello)
    await testApp(app, async (fetch, ctx) => {
      const res = await fetch('/', { headers: { Authorization: basic('a:b') } })
      expect(res.status).toBe(500)
      expect(ctx.errors()).toContain('directory down')
    })
  })

  it.each([
    ['admin:s3cr3t', 200],
    ['admin:s3cr3', 401],
    ['admin:s3cr3t ', 401],
    ['admin:', 401],
    ['Admin:s3cr3t', 401],
    ['guest:', 401],
    ['__proto__:', 401],
    ['constructor:', 401],
    ['root:p:w', 200],
    ['root:p', 401],
  ])('users table: %s → %i', async (credentials, status) => {
    const app = authBasic({ users: { admin: 's3cr3t', root: 'p:w' } })(hello)
    const [got] = await statusAndBody(app, '/', basic(credentials))
    expect(got).toBe(status)
  })
})

describe('Auth::Basic: options', () => {
  const table: [unknown, string][] = [
    [undefined, 'exactly one of'],
    [{}, 'exactly one of'],
    [{ authenticator: () => true, users: { a: 'b' } }, 'exactly one of'],
    [{ authenticator: 'yes' }, "option 'authenticator'"],
    [{ users: {} }, "option 'users'"],
    [{ users: { a: 1 } }, "option 'users'"],
    [{ users: ['a'] }, "option 'users'"],
    [{ authenticator: () => true, realm: 5 }, "option 'realm'"],
    [{ authenticator: () => true, realm: 'a\r\nX-Evil: 1' }, "option 'realm'"],
    [{ authenticator: () => true, path: '/x' }, "unknown option 'path'"],
  ]
  it.each(table)('%j → TypeError', (options, message) => {
    const build = () => authBasic(options as unknown as AuthBasicOptions)
    expect(build).toThrow(TypeError)
    expect(build).toThrow(message)
    expect(build).toThrow(/^Auth::Basic: /)
  })
})
