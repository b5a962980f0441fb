import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { deriveKeys, seal } from '../../middleware/session/cookie-codec.js'
import { generateId } from '../../middleware/session/id.js'
import { sessionCookie } from '../../middleware/session-cookie.js'
import { testApp } from '../../src/testing/index.js'
import type { App, Env } from '../../src/types.js'
import { manualClock } from './session/store-suite.js'

const secret = 'a-test-secret-of-decent-length'
const cookieOf = (res: globalThis.Response) => res.headers.getSetCookie()[0]?.split(';')[0]
const withCookie = (cookie: string | undefined) => (cookie ? { headers: { Cookie: cookie } } : {})

// Plack's t/013_cookiestore.t and t/016_cookiestore_w_customs.t
const expiringCounter: App = (env) => {
  const s = env['tsgix.session']!
  const counter = Number(s.counter) || 0
  s.counter = counter + 1
  if (counter >= 2) env['tsgix.session.options']!.expire = true
  return [200, [], [`counter=${counter}`]]
}

describe("Session::Cookie: Plack's 013_cookiestore.t and 016_cookiestore_w_customs.t", () => {
  it.each([
    [{ secret }, /^tsgi_session=[\w-]+\.[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/],
    [{ secret, expires: 3600 }, /; Max-Age=3600; Path=\/; Expires=/],
  ])('%o counts to 2, then expires', async (options, pattern) => {
    await testApp(
      sessionCookie(options)(expiringCounter),
      async (fetch) => {
        let cookie: string | undefined
        for (const expected of ['counter=0', 'counter=1', 'counter=2', 'counter=0']) {
          const res = await fetch('/', withCookie(cookie))
          expect(await res.text()).toBe(expected)
          const header = res.headers.get('set-cookie')!
          if (expected === 'counter=2') expect(header).toMatch(/^tsgi_session=; Max-Age=0;/)
          else expect(header).toMatch(pattern)
          cookie = expected === 'counter=2' ? undefined : cookieOf(res)
        }
      },
      { impl: 'Server' },
    )
  })
})

// Plack's t/015_cookie_options_mw.t
describe("Session::Cookie: Plack's 015_cookie_options_mw.t", () => {
  it('takes per-request cookie options', async () => {
    const app = sessionCookie({ secret, httpOnly: true, sameSite: 'Lax' })((env) => {
      env['tsgix.session']!.counter = 1
      const options = env['tsgix.session.options']!
      if (env.PATH_INFO.includes('with_path')) options.path = '/foo'
      options.domain = '.example.com'
      return [200, [], ['Hi']]
    })
    await testApp(app, async (fetch) => {
      expect((await fetch('/')).headers.get('set-cookie')).toMatch(
        /^tsgi_session=\S+; Domain=.example.com; Path=\/; HttpOnly; SameSite=Lax$/,
      )
      expect((await fetch('/with_path')).headers.get('set-cookie')).toMatch(
        /^tsgi_session=\S+; Domain=.example.com; Path=\/foo; HttpOnly; SameSite=Lax$/,
      )
    })
  })
})

const counter: App = (env) => {
  const s = env['tsgix.session']!
  const n = Number(s.n) || 0
  s.n = n + 1
  return [200, [], [`n=${n}`]]
}

/** The counter's cookie after one request, and a function to send any cookie value. */
async function withSession(
  options: Parameters<typeof sessionCookie>[0],
  body: (value: string, send: (value: string) => Promise<[string, string | undefined]>) => Promise<void>,
  app: App = counter,
) {
  await testApp(sessionCookie(options)(app), async (fetch) => {
    const value = cookieOf(await fetch('/'))!.slice('tsgi_session='.length)
    await body(value, async (v) => {
      const res = await fetch('/', { headers: { Cookie: `tsgi_session=${v}` } })
      return [await res.text(), cookieOf(res)]
    })
  })
}

describe('Session::Cookie: cookies that must not be trusted start a fresh session', () => {
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
  it.each([
    ['as sent (control)', (v: string) => v, 'n=1'],
    ['a payload byte changed', (v: string) => flip(v, 2), 'n=0'],
    ['a signature byte changed', (v: string) => flip(v, v.length - 3), 'n=0'],
    ['truncated by one', (v: string) => v.slice(0, -1), 'n=0'],
    ['signature cut off', (v: string) => v.slice(0, v.lastIndexOf('.')), 'n=0'],
    ['payload cut off', (v: string) => v.slice(v.lastIndexOf('.')), 'n=0'],
    ['oversized', (v: string) => 'A'.repeat(9000) + v, 'n=0'],
    ['not base64url', (v: string) => `${v.slice(0, 5)}*${v.slice(6)}`, 'n=0'],
    ['empty', () => '', 'n=0'],
    ['two signatures', (v: string) => `${v}.${v.slice(v.lastIndexOf('.') + 1)}`, 'n=0'],
  ])('%s', async (_, mangle, expected) => {
    await withSession({ secret }, async (value, send) => {
      const [body, reissued] = await send(mangle(value))
      expect(body).toBe(expected)
      expect(reissued).toBeDefined()
    })
  })

  it('signed with another secret', async () => {
    const forged = seal(
      JSON.stringify({ i: generateId(), e: Date.now() + 60_000, d: { n: 41 } }),
      deriveKeys('x'.repeat(16)),
      false,
    )
    await withSession({ secret }, async (_, send) => expect((await send(forged))[0]).toBe('n=0'))
  })

  it.each([
    ['not JSON', 'n=41'],
    ['an array', '[]'],
    ['no id', JSON.stringify({ e: Date.now() + 60_000, d: { n: 41 } })],
    ['a bad id', JSON.stringify({ i: '../x', e: Date.now() + 60_000, d: { n: 41 } })],
    ['no expiry', JSON.stringify({ i: generateId(), d: { n: 41 } })],
    ['data not an object', JSON.stringify({ i: generateId(), e: Date.now() + 60_000, d: [41] })],
  ])('signed with the right secret but %s', async (_, json) => {
    const sealed = seal(json, deriveKeys(secret), false)
    await withSession({ secret }, async (_, send) => expect((await send(sealed))[0]).toBe('n=0'))
  })

  it('past the expiry inside the payload', async () => {
    const clock = manualClock()
    await withSession({ secret, ttl: 60, now: clock.now }, async (value, send) => {
      clock.advance(59_000)
      expect((await send(value))[0]).toBe('n=1')
      clock.advance(2_000)
      expect((await send(value))[0]).toBe('n=0')
    })
  })

  it('any string as the cookie value (property)', async () => {
    await testApp(sessionCookie({ secret })(counter), async (fetch) => {
      await fc.assert(
        fc.asyncProperty(fc.string({ maxLength: 300 }), async (value) => {
          const res = await fetch('/', { headers: { Cookie: `tsgi_session=${encodeURIComponent(value)}` } })
          expect(await res.text()).toBe('n=0')
        }),
        { numRuns: 60 },
      )
    })
  })
})

describe('Session::Cookie: secrets and encryption', () => {
  it('accepts a cookie sealed with an older secret and re-seals with the first', async () => {
    const old = 'the-old-secret-0123456789'
    let value = ''
    await withSession({ secret: old }, async (v) => {
      value = v
    })
    await withSession({ secrets: [secret, old] }, async (_, send) => {
      const [body, reissued] = await send(value)
      expect(body).toBe('n=1')
      const sealedByFirst = reissued!.slice('tsgi_session='.length)
      await withSession({ secret }, async (_, sendNew) =>
        expect((await sendNew(sealedByFirst))[0]).toBe('n=2'),
      )
    })
    await withSession({ secret }, async (_, send) => expect((await send(value))[0]).toBe('n=0'))
  })

  it('encrypts: the data cannot be read from the cookie, and the app still gets it', async () => {
    const app: App = (env) => {
      const s = env['tsgix.session']!
      s.card = 'visible-if-not-encrypted'
      return [200, [], [String(s.n ?? 'none')]]
    }
    for (const encrypt of [false, true]) {
      await withSession(
        { secret, encrypt },
        async (value, send) => {
          const body = Buffer.from(value.split('.')[0]!, 'base64url').toString('latin1')
          expect(body.includes('visible-if-not-encrypted')).toBe(!encrypt)
          expect((await send(value))[0]).toBe('none')
        },
        app,
      )
    }
  })

  it('an encrypting setup refuses a cookie that is only signed', async () => {
    let plain = ''
    await withSession({ secret }, async (v) => {
      plain = v
    })
    await withSession({ secret, encrypt: true }, async (_, send) =>
      expect((await send(plain))[0]).toBe('n=0'),
    )
  })

  it('warns on tsgi.errors past 4096 bytes and still sends the cookie', async () => {
    const app = sessionCookie({ secret })((env) => {
      env['tsgix.session']!.big = 'x'.repeat(Number(env.QUERY_STRING))
      return [200, [], []]
    })
    await testApp(app, async (fetch, { errors }) => {
      expect((await fetch('/?2000')).headers.get('set-cookie')).not.toBeNull()
      expect(errors()).toBe('')
      expect((await fetch('/?4000')).headers.get('set-cookie')).not.toBeNull()
      expect(errors()).toMatch(/Session::Cookie: the session cookie is \d+ bytes, past the 4096-byte limit/)
    })
  })
})

describe('Session::Cookie: when a cookie is sent', () => {
  it('not for a session nobody touched or only read', async () => {
    await withSession(
      { secret },
      async (value, send) => {
        expect((await send(value))[1]).toBeUndefined()
      },
      (env: Env) => {
        const s = env['tsgix.session']!
        if (s.user === undefined) s.user = 'ann'
        return [200, [], [String(s.user)]]
      },
    )
    await testApp(
      sessionCookie({ secret })(() => [200, [], []]),
      async (fetch) => {
        expect((await fetch('/')).headers.get('set-cookie')).toBeNull()
      },
    )
  })

  it('again for an unchanged session once it is older than touchAfter', async () => {
    const clock = manualClock()
    const app: App = (env) => {
      const s = env['tsgix.session']!
      const had = s.user !== undefined
      s.user ??= 'ann'
      return [200, [], [had ? 'kept' : 'fresh']]
    }
    await withSession(
      { secret, ttl: 100, touchAfter: 30, now: clock.now },
      async (value, send) => {
        clock.advance(29_000)
        expect(await send(value)).toEqual(['kept', undefined])
        clock.advance(2_000)
        const [body, renewed] = await send(value)
        expect([body, renewed]).toEqual(['kept', expect.stringMatching(/^tsgi_session=/)])
        clock.advance(90_000) // past the first cookie's expiry, within the renewed one's
        expect((await send(value))[0]).toBe('fresh')
        expect((await send(renewed!.slice('tsgi_session='.length)))[0]).toBe('kept')
      },
      app,
    )
  })

  it('changeId gives the session a new id and keeps the data', async () => {
    const app: App = (env) => {
      const s = env['tsgix.session']!
      const options = env['tsgix.session.options']!
      s.n = (Number(s.n) || 0) + 1
      if (s.n === 2) options.changeId = true
      return [200, [], [options.id]]
    }
    await testApp(sessionCookie({ secret })(app), async (fetch) => {
      const first = await fetch('/')
      const id1 = await first.text()
      const second = await fetch('/', withCookie(cookieOf(first)))
      expect(await second.text()).toBe(id1) // the id changes as the response goes out
      const id2 = await (await fetch('/', withCookie(cookieOf(second)))).text()
      expect(id2).toMatch(/^[\w-]{32}$/)
      expect(id2).not.toBe(id1)
    })
  })

  const forms: [string, App][] = [
    ['array', (env) => (counter(env) as [number, string[], string[]]) && [200, [], ['ok']]],
    [
      'async iterable',
      (env) => {
        counter(env)
        return [
          200,
          [],
          (async function* () {
            yield 'ok'
          })(),
        ]
      },
    ],
    [
      'writer',
      (env) => async (respond) => {
        counter(env)
        const w = respond([200, []])
        await w.write('ok')
        await w.close()
      },
    ],
  ]
  it.each(forms)('%s response: the session round-trips', async (_, app) => {
    await testApp(sessionCookie({ secret })(app), async (fetch) => {
      const first = await fetch('/')
      expect(await first.text()).toBe('ok')
      const second = await fetch('/', withCookie(cookieOf(first)))
      expect(await second.text()).toBe('ok')
      const value = cookieOf(second)!.split('=')[1]!
      expect(JSON.parse(Buffer.from(value.split('.')[0]!, 'base64url').toString()).d).toEqual({ n: 2 })
    })
  })
})

describe('Session::Cookie: options', () => {
  it.each([
    [undefined, /Session::Cookie: exactly one of the options 'secret' and 'secrets' is required/],
    [{}, /exactly one of the options 'secret' and 'secrets' is required/],
    [{ secret, secrets: [secret] }, /exactly one of/],
    [{ secret: 'short' }, /Session::Cookie: option 'secret' must be a string of at least 16 characters/],
    [{ secrets: [] }, /option 'secrets' must be a non-empty array/],
    [{ secrets: [secret, 1] }, /option 'secrets' must be a string of at least 16/],
    [{ secret, encrypt: 'yes' }, /Session::Cookie: option 'encrypt' must be a boolean/],
    [{ secret, ttl: 0 }, /Session::Cookie: option 'ttl'/],
    [{ secret, store: {} }, /Session::Cookie: unknown option 'store'/],
    [{ secret, sessionKey: 'a;b' }, /Session::Cookie: option 'sessionKey'/],
  ])('rejects %o', (options, message) => {
    expect(() => sessionCookie(options as never)).toThrow(TypeError)
    expect(() => sessionCookie(options as never)).toThrow(message)
  })
})
