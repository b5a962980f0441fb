import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import {
  fileStore,
  headerState,
  memoryStore,
  type SessionData,
  type SessionEnvOptions,
  type SessionStore,
  session,
} from '../../middleware/session.js'
import { testApp } from '../../src/testing/index.js'
import type { App, Env } from '../../src/types.js'
import { manualClock } from './session/store-suite.js'

const root = mkdtempSync(join(tmpdir(), 'tsgi-session-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let dirs = 0
const stores: Record<string, () => SessionStore> = {
  memory: () => memoryStore(),
  file: () => fileStore({ dir: join(root, `d${dirs++}`), sweepInterval: 0 }),
}

/** The `name=value` of the first Set-Cookie, or undefined. */
const cookieOf = (res: globalThis.Response) => res.headers.getSetCookie()[0]?.split(';')[0]
const withCookie = (cookie: string | undefined) => (cookie ? { headers: { Cookie: cookie } } : {})

/** A store that counts its calls. */
function counting(store: SessionStore) {
  const calls = { get: 0, set: 0, delete: 0 }
  const wrapped: SessionStore = {
    get(id) {
      calls.get++
      return store.get(id)
    },
    set(id, value, ttl) {
      calls.set++
      return store.set(id, value, ttl)
    },
    delete(id) {
      calls.delete++
      return store.delete(id)
    },
  }
  return { store: wrapped, calls }
}

const counter: App = (env) => {
  const s = env['tsgix.session']!
  const n = Number(s.counter) || 0
  s.counter = n + 1
  return [200, ['Content-Type', 'text/plain'], [`Counter=${n}`]]
}

// Plack's t/lib/TestSessionHash.pm, run by 001a–004a against each store.
describe.each(Object.keys(stores))("Session: Plack's TestSessionHash sequence (%s store)", (name) => {
  it('creates, reads, changes, expires and regenerates sessions', async () => {
    let step: (s: SessionData, o: SessionEnvOptions) => void = () => {}
    let seen: { s: SessionData; o: SessionEnvOptions } | undefined
    const app = session({ store: stores[name]!() })((env) => {
      seen = { s: env['tsgix.session']!, o: env['tsgix.session.options']! }
      step(seen.s, seen.o)
      return [200, [], []]
    })
    await testApp(app, async (fetch) => {
      const run = async (cookieId: string | undefined, fn: typeof step) => {
        step = fn
        const res = await fetch('/', withCookie(cookieId && `tsgi_session=${cookieId}`))
        return { res, ...seen! }
      }
      const r1 = await run(undefined, (s) => {
        expect(s.foo).toBeUndefined()
        s.foo = 'bar'
        s.bar = 'baz'
      })
      expect(r1.s).toEqual({ foo: 'bar', bar: 'baz' })
      const id1 = r1.o.id
      expect(cookieOf(r1.res)).toBe(`tsgi_session=${id1}`)

      const r2 = await run(undefined, (s) => {
        expect(s.foo).toBeUndefined()
        s.foo = 'baz'
      })
      const id2 = r2.o.id
      expect(id2).not.toBe(id1)

      const r3 = await run(id1, (s) => {
        expect(s.foo).toBe('bar')
        delete s.foo
      })
      expect([r3.o.id, r3.s]).toEqual([id1, { bar: 'baz' }])

      const r4 = await run(id2, (s) => expect(s.foo).toBe('baz'))
      expect([r4.o.id, r4.s]).toEqual([id2, { foo: 'baz' }])

      const r5 = await run(id1, (s) => {
        expect(s.foo).toBeUndefined()
        s.baz = 'gorch'
      })
      expect(r5.s).toEqual({ bar: 'baz', baz: 'gorch' })

      const r6 = await run(id1, (s, o) => {
        expect(s.bar).toBe('baz')
        o.expire = true
      })
      expect(r6.res.headers.get('set-cookie')).toMatch(
        /^tsgi_session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970/,
      )

      const r7 = await run(id1, (s) => expect(s.bar).toBeUndefined())
      expect(r7.o.id).not.toBe(id1)
      expect(r7.s).toEqual({})

      const r8 = await run(id2, (s) => expect(s.foo).toBe('baz'))
      expect(r8.o.id).toBe(id2)

      const r9 = await run('../wrong', (s) => {
        expect(s.foo).toBeUndefined()
        s.foo = 'baz'
      })
      expect(r9.o.id).not.toBe('../wrong')
      expect(cookieOf(r9.res)).toBe(`tsgi_session=${r9.o.id}`)
    })
  })
})

// Plack's t/010_middleware.t
describe.each(Object.keys(stores))("Session: Plack's 010_middleware.t counter (%s store)", (name) => {
  it.each(['MockHTTP', 'Server'] as const)('counts over %s', async (impl) => {
    await testApp(
      session({ store: stores[name]!() })(counter),
      async (fetch) => {
        const first = await fetch('/')
        expect(await first.text()).toBe('Counter=0')
        const cookie = cookieOf(first)
        expect(await (await fetch('/', withCookie(cookie))).text()).toBe('Counter=1')
        expect(await (await fetch('/', withCookie(cookie))).text()).toBe('Counter=2')
      },
      { impl },
    )
  })
})

const hello = 'Hello'
const forms: [string, (env: Env) => ReturnType<App>][] = [
  ['array', () => [200, ['Content-Type', 'text/plain'], [hello]]],
  [
    'async iterable',
    () => [
      200,
      ['Content-Type', 'text/plain'],
      (async function* () {
        yield hello
      })(),
    ],
  ],
  [
    'writer',
    () => async (respond) => {
      const w = respond([200, ['Content-Type', 'text/plain']])
      await w.write(hello)
      await w.close()
    },
  ],
]

describe('Session: every response form', () => {
  it.each(forms)('%s: the cookie is set and the data stored', async (_, respond) => {
    const { store, calls } = counting(memoryStore())
    const app = session({ store })((env) => {
      env['tsgix.session']!.user = 'ann'
      return respond(env)
    })
    await testApp(app, async (fetch) => {
      const res = await fetch('/')
      expect(await res.text()).toBe(hello)
      const id = cookieOf(res)!.split('=')[1]!
      expect(JSON.parse((await store.get(id))!).d).toEqual({ user: 'ann' })
      expect(calls.set).toBe(1)
    })
  })

  it.each(forms)(
    '%s: a failing store gives 503 and a message, and the next request works',
    async (_, respond) => {
      let fail = true
      const memory = memoryStore()
      const store: SessionStore = {
        get: (id) => memory.get(id),
        set: (id, v, ttl) =>
          fail ? Promise.reject(new Error('connection refused')) : memory.set(id, v, ttl),
        delete: (id) => memory.delete(id),
      }
      const app = session({ store })((env) => {
        env['tsgix.session']!.x = 1
        return respond(env)
      })
      await testApp(app, async (fetch, { errors }) => {
        const res = await fetch('/')
        expect(res.status).toBe(503)
        expect(res.headers.get('set-cookie')).toBeNull()
        expect(await res.text()).toBe('Service Unavailable: the session store is not reachable')
        expect(errors()).toContain(
          'Session: the session store failed to save a session (connection refused); answered 503',
        )
        fail = false
        const ok = await fetch('/')
        expect([ok.status, await ok.text()]).toEqual([200, hello])
      })
    },
  )

  // Plack's t/012_streaming.t: what the app changes after the head is out is not stored.
  it('writer: changes made after the head was sent are not stored', async () => {
    const store = memoryStore()
    const app = session({ store })((env) => async (respond) => {
      const s = env['tsgix.session']!
      s.early = (Number(s.early) || 0) + 1
      const w = respond([200, ['Content-Type', 'text/html']])
      await w.write('Hello')
      s.late = 1
      await w.close()
    })
    await testApp(
      app,
      async (fetch) => {
        const res = await fetch('/')
        expect(await res.text()).toBe('Hello')
        const id = cookieOf(res)!.split('=')[1]!
        expect(JSON.parse((await store.get(id))!).d).toEqual({ early: 1 })
      },
      { impl: 'Server' },
    )
  })
})

describe('Session: when the store is read and written', () => {
  it('reads nothing, writes nothing and sends no cookie when the app does not touch the session', async () => {
    const { store, calls } = counting(memoryStore())
    await testApp(session({ store })(forms[0]![1]), async (fetch) => {
      const res = await fetch('/')
      expect(res.headers.get('set-cookie')).toBeNull()
      expect(calls).toEqual({ get: 0, set: 0, delete: 0 })
    })
  })

  it('sends no cookie for a new session that was read but left empty', async () => {
    const { store, calls } = counting(memoryStore())
    const app = session({ store })((env) => [200, [], [`${Object.keys(env['tsgix.session']!).length}`]])
    await testApp(app, async (fetch) => {
      const res = await fetch('/')
      expect(await res.text()).toBe('0')
      expect(res.headers.get('set-cookie')).toBeNull()
      expect(calls.set).toBe(0)
    })
  })

  it('reads but does not write an existing session the app only read', async () => {
    const { store, calls } = counting(memoryStore())
    const app = session({ store })((env) => {
      const s = env['tsgix.session']!
      if (env.PATH_INFO === '/login') s.user = 'ann'
      return [200, [], [String(s.user)]]
    })
    await testApp(app, async (fetch) => {
      const cookie = cookieOf(await fetch('/login'))
      const res = await fetch('/', withCookie(cookie))
      expect(await res.text()).toBe('ann')
      expect(res.headers.get('set-cookie')).toBeNull()
      expect(calls).toEqual({ get: 1, set: 1, delete: 0 })
    })
  })

  it.each([
    'tsgi_session=../../etc/passwd',
    'tsgi_session=short',
    `tsgi_session=${'a'.repeat(33)}`,
    `tsgi_session=${'a'.repeat(31)}%2F`,
    'tsgi_session=',
    'other=1',
  ])('never asks the store about a malformed id: %s', async (cookie) => {
    const { store, calls } = counting(memoryStore())
    await testApp(session({ store })(counter), async (fetch) => {
      const res = await fetch('/', withCookie(cookie))
      expect(await res.text()).toBe('Counter=0')
      expect(cookieOf(res)).toMatch(/^tsgi_session=[A-Za-z0-9_-]{32}$/)
      expect(calls.get).toBe(0)
    })
  })

  it('starts a new session, with a new id, for a well-formed id the store does not know', async () => {
    const unknown = 'A'.repeat(32)
    await testApp(session()(counter), async (fetch) => {
      const res = await fetch('/', withCookie(`tsgi_session=${unknown}`))
      expect(await res.text()).toBe('Counter=0')
      expect(cookieOf(res)).not.toBe(`tsgi_session=${unknown}`)
    })
  })

  it('changeId gives a new id, keeps the data and deletes the old record', async () => {
    const store = memoryStore()
    const app = session({ store })((env) => {
      const s = env['tsgix.session']!
      if (env.PATH_INFO === '/login') env['tsgix.session.options']!.changeId = true
      else s.cart = 3
      return [200, [], [String(s.cart)]]
    })
    await testApp(app, async (fetch) => {
      const before = cookieOf(await fetch('/'))!
      const res = await fetch('/login', withCookie(before))
      expect(await res.text()).toBe('3')
      const after = cookieOf(res)!
      expect(after).not.toBe(before)
      expect(await store.get(before.split('=')[1]!)).toBeUndefined()
      expect(JSON.parse((await store.get(after.split('=')[1]!))!).d).toEqual({ cart: 3 })
    })
  })

  it('expire deletes the record and expires the cookie', async () => {
    const { store, calls } = counting(memoryStore())
    const app = session({ store })((env) => {
      if (env.PATH_INFO === '/logout') env['tsgix.session.options']!.expire = true
      else env['tsgix.session']!.user = 'ann'
      return [200, [], []]
    })
    await testApp(app, async (fetch) => {
      const cookie = cookieOf(await fetch('/'))!
      const res = await fetch('/logout', withCookie(cookie))
      expect(res.headers.get('set-cookie')).toMatch(/^tsgi_session=; Max-Age=0;/)
      expect(calls.delete).toBe(1)
      expect(await store.get(cookie.split('=')[1]!)).toBeUndefined()
    })
  })

  it('noStore leaves the store alone and sends no cookie', async () => {
    const { store, calls } = counting(memoryStore())
    const app = session({ store })((env) => {
      env['tsgix.session']!.x = 1
      env['tsgix.session.options']!.noStore = true
      return [200, [], []]
    })
    await testApp(app, async (fetch) => {
      const res = await fetch('/')
      expect(res.headers.get('set-cookie')).toBeNull()
      expect(calls.set).toBe(0)
    })
  })

  it('writes an unchanged session again once it is older than touchAfter (TTL refresh)', async () => {
    const clock = manualClock()
    const { store, calls } = counting(memoryStore({ now: clock.now }))
    const app = session({ store, ttl: 100, touchAfter: 30, now: clock.now })((env) => {
      const s = env['tsgix.session']!
      if (env.PATH_INFO === '/login') s.user = 'ann'
      return [200, [], [String(s.user)]]
    })
    await testApp(app, async (fetch) => {
      const cookie = cookieOf(await fetch('/login'))
      clock.advance(29_000)
      expect((await fetch('/', withCookie(cookie))).headers.get('set-cookie')).toBeNull()
      clock.advance(2_000)
      const refreshed = await fetch('/', withCookie(cookie))
      expect(cookieOf(refreshed)).toBe(cookie)
      expect(calls.set).toBe(2)
      clock.advance(99_000) // within 100 s of the refresh
      expect(await (await fetch('/', withCookie(cookie))).text()).toBe('ann')
    })
  })

  it('lets the app replace the session object', async () => {
    const app = session()((env) => {
      if (env.PATH_INFO === '/reset') env['tsgix.session'] = { fresh: true }
      else env['tsgix.session']!.old = true
      return [200, [], [JSON.stringify(env['tsgix.session'])]]
    })
    await testApp(app, async (fetch) => {
      const cookie = cookieOf(await fetch('/'))
      await fetch('/reset', withCookie(cookie))
      expect(await (await fetch('/show', withCookie(cookie))).text()).toBe('{"fresh":true,"old":true}')
    })
  })
})

describe('Session: concurrent requests of one session', () => {
  it.each(Object.keys(stores))(
    '%s store: every request succeeds and the record stays whole',
    async (name) => {
      const store = stores[name]!()
      await testApp(
        session({ store })(counter),
        async (fetch) => {
          const cookie = cookieOf(await fetch('/'))
          const results = await Promise.all(Array.from({ length: 20 }, () => fetch('/', withCookie(cookie))))
          expect(results.map((r) => r.status)).toEqual(Array(20).fill(200))
          const bodies = await Promise.all(results.map((r) => r.text()))
          for (const body of bodies) expect(body).toMatch(/^Counter=\d+$/)
          const record = JSON.parse((await store.get(cookie!.split('=')[1]!))!)
          expect(record.d.counter).toBeGreaterThanOrEqual(2)
          expect(record.d.counter).toBeLessThanOrEqual(21)
        },
        { impl: 'Server' },
      )
    },
  )
})

describe('Session: the cookie', () => {
  const touch: App = (env) => {
    env['tsgix.session']!.x = 1
    return [200, [], []]
  }
  it.each([
    [{}, 'http://localhost/', /^tsgi_session=[\w-]{32}; Path=\/; HttpOnly; SameSite=Lax$/],
    [{}, 'https://localhost/', /^tsgi_session=[\w-]{32}; Path=\/; HttpOnly; Secure; SameSite=Lax$/],
    [{ secure: false }, 'https://localhost/', /; HttpOnly; SameSite=Lax$/],
    [
      { sessionKey: 'sid', path: '/app', domain: 'example.com' },
      '/',
      /^sid=[\w-]{32}; Domain=example.com; Path=\/app;/,
    ],
    [
      { maxAge: 3600 },
      '/',
      /; Max-Age=3600; Path=\/; Expires=\w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT; HttpOnly/,
    ],
    [{ expires: 60 }, '/', /; Max-Age=60;/],
    [{ httpOnly: false, sameSite: 'Strict' }, '/', /; Path=\/; SameSite=Strict$/],
    [{ sameSite: 'None', secure: true }, '/', /; Secure; SameSite=None$/],
  ] as const)('%o at %s', async (options, url, pattern) => {
    await testApp(session(options)(touch), async (fetch) => {
      expect((await fetch(url)).headers.get('set-cookie')).toMatch(pattern)
    })
  })

  // Plack's t/015_cookie_options_mw.t: per-request cookie options.
  it('takes per-request overrides from tsgix.session.options', async () => {
    const app = session()((env) => {
      env['tsgix.session']!.counter = 1
      const options = env['tsgix.session.options']!
      if (env.PATH_INFO.includes('with_path')) options.path = '/foo'
      options.domain = '.example.com'
      return [200, [], ['Hi']]
    })
    await testApp(app, async (fetch) => {
      expect((await fetch('/')).headers.get('set-cookie')).toMatch(
        /; Domain=.example.com; Path=\/; HttpOnly; SameSite=Lax/,
      )
      expect((await fetch('/with_path')).headers.get('set-cookie')).toMatch(
        /; Domain=.example.com; Path=\/foo;/,
      )
    })
  })

  it('header state: the id travels in X-Session-Id', async () => {
    const app = session({ state: headerState() })(counter)
    await testApp(app, async (fetch) => {
      const first = await fetch('/')
      const id = first.headers.get('x-session-id')!
      expect(id).toMatch(/^[\w-]{32}$/)
      expect(first.headers.get('set-cookie')).toBeNull()
      expect(await (await fetch('/', { headers: { 'X-Session-Id': id } })).text()).toBe('Counter=1')
    })
  })
})

describe('Session: options', () => {
  it.each([
    [{ store: {} }, /Session: option 'store' must have get, set and delete methods/],
    [{ state: { extract() {} } }, /Session: option 'state' must have extract, finalize and expire/],
    [{ state: headerState(), path: '/' }, /Session: give option 'state' or the cookie settings, not both/],
    [{ sessionKey: 'a b' }, /Session: option 'sessionKey' must be a cookie name token/],
    [{ path: 'a;b' }, /Session: option 'path' must be non-empty visible ASCII/],
    [{ maxAge: -1 }, /Session: option 'maxAge' must be an integer >= 0/],
    [{ maxAge: 1, expires: 1 }, /Session: give only one of the options 'maxAge' and 'expires'/],
    [{ sameSite: 'lax' }, /Session: option 'sameSite' must be one of 'Strict', 'Lax', 'None'/],
    [{ sameSite: 'None', secure: false }, /'None' needs 'secure'/],
    [{ ttl: 0 }, /Session: option 'ttl' must be an integer >= 1/],
    [{ touchAfter: -1 }, /Session: option 'touchAfter'/],
    [{ cookieName: 'x' }, /Session: unknown option 'cookieName'/],
    [[], /Session: options must be an object/],
  ])('rejects %o', (options, message) => {
    expect(() => session(options as never)).toThrow(TypeError)
    expect(() => session(options as never)).toThrow(message)
  })

  it('loading tsgi/middleware/session does not load ioredis', async () => {
    const entry = resolve(import.meta.dirname, '../../middleware/session.ts')
    const script = `
      import { createRequire } from 'node:module'
      const mod = await import(${JSON.stringify(entry)})
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/ioredis/'))
      const before = loaded()
      const store = mod.redisStore({ url: 'redis://127.0.0.1:1', redisOptions: { connectTimeout: 200 } })
      await store.connect().catch(() => {})
      console.log(JSON.stringify({ before, after: loaded() }))`
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: resolve(import.meta.dirname, '../..'),
      },
    )
    expect(JSON.parse(stdout)).toEqual({ before: false, after: true })
  })
})
