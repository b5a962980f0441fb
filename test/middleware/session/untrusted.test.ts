/**
 * Session and Session::Cookie against hostile input: any cookie value a client sends reaches a
 * store only as a well-formed id; a tampered sealed cookie never opens; per-request cookie
 * options from the app that would inject attributes are refused, never written.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ID_PATTERN, memoryStore, type SessionStore, session } from '../../../middleware/session.js'
import { sessionCookie } from '../../../middleware/session-cookie.js'
import { requestEnv, runResponse, testApp } from '../../../src/testing/index.js'
import type { App, Middleware } from '../../../src/types.js'

const secret = 'a-test-secret-of-decent-length'

/** A memory store that records every id it is asked about. */
function recording() {
  const ids: string[] = []
  const inner = memoryStore()
  const store: SessionStore = {
    get(id) {
      ids.push(id)
      return inner.get(id)
    },
    set(id, value, ttl) {
      ids.push(id)
      return inner.set(id, value, ttl)
    },
    delete(id) {
      ids.push(id)
      return inner.delete(id)
    },
  }
  return { store, ids }
}

const counter: App = (env) => {
  const s = env['tsgix.session']!
  const n = Number(s.n) || 0
  s.n = n + 1
  return [200, [], [`n=${n}`]]
}

describe('Session: ids from the client', () => {
  it('whatever Cookie header comes, the store sees only well-formed ids, and never adopts one (property)', async () => {
    const { store, ids } = recording()
    const app = session({ store })(counter)
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.stringMatching(/^[A-Za-z0-9_./%\\-]{30,34}$/),
      fc.constantFrom('../../etc/passwd', '%2e%2e%2f', 'A'.repeat(32), `${'A'.repeat(31)}\u0000`),
    )
    await fc.assert(
      fc.asyncProperty(value, async (raw) => {
        const env = requestEnv({ HTTP_COOKIE: `tsgi_session=${encodeURIComponent(raw)}; tsgi_session=x` })
        const out = await runResponse(Promise.resolve(app(env)))
        expect(out.body).toBe('n=0')
        const issued = /tsgi_session=([^;]*)/.exec(String(out.headers[out.headers.indexOf('Set-Cookie') + 1]))
        expect(issued?.[1]).toMatch(ID_PATTERN)
        expect(issued?.[1]).not.toBe(raw)
        for (const id of ids) expect(id).toMatch(ID_PATTERN)
      }),
      { numRuns: 300 },
    )
  })
})

describe('Session::Cookie: a sealed cookie with any one character changed never opens', () => {
  it.each([false, true])(
    'encrypt %s: every other spelling of the last signature character is refused',
    async (encrypt) => {
      await testApp(sessionCookie({ secret, encrypt })(counter), async (fetch) => {
        const sealed = (await fetch('/')).headers
          .getSetCookie()[0]!
          .split(';')[0]!
          .slice('tsgi_session='.length)
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
        for (const c of alphabet) {
          if (c === sealed.at(-1)) continue
          const forged = sealed.slice(0, -1) + c
          const res = await fetch('/', { headers: { Cookie: `tsgi_session=${forged}` } })
          expect(await res.text(), forged).toBe('n=0')
        }
      })
    },
  )

  it.each([false, true])('encrypt %s', async (encrypt) => {
    await testApp(sessionCookie({ secret, encrypt })(counter), async (fetch) => {
      const first = await fetch('/')
      const sealed = first.headers.getSetCookie()[0]!.split(';')[0]!.slice('tsgi_session='.length)
      expect(await (await fetch('/', { headers: { Cookie: `tsgi_session=${sealed}` } })).text()).toBe('n=1')
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'
      await fc.assert(
        fc.asyncProperty(fc.nat(sealed.length - 1), fc.nat(alphabet.length - 1), async (at, pick) => {
          const replacement = alphabet[pick]!
          fc.pre(sealed[at] !== replacement)
          const forged = sealed.slice(0, at) + replacement + sealed.slice(at + 1)
          const res = await fetch('/', { headers: { Cookie: `tsgi_session=${forged}` } })
          expect(await res.text()).toBe('n=0')
        }),
        { numRuns: 200 },
      )
    })
  })
})

const overrides: [string, Record<string, unknown>][] = [
  ['sameSite with CR/LF', { sameSite: 'Lax\r\nSet-Cookie: admin=1' }],
  ['sameSite not one of three', { sameSite: 'lax; Domain=evil.example' }],
  ['path with ;', { path: '/; Domain=evil.example' }],
  ['path with CR/LF', { path: '/\r\nX-Evil: 1' }],
  ['an empty domain', { domain: '' }],
  ['domain with ;', { domain: 'example.com; Secure' }],
  ['maxAge NaN', { maxAge: Number.NaN }],
  ['maxAge negative', { maxAge: -5 }],
  ['maxAge a string', { maxAge: '60; Domain=evil.example' }],
  ['maxAge Infinity', { maxAge: Number.POSITIVE_INFINITY }],
]

const middlewares: [string, Middleware][] = [
  ['Session', session()],
  ['Session::Cookie', sessionCookie({ secret })],
]

describe.each(middlewares)('%s: cookie options from the app', (_name, middleware) => {
  it.each(overrides)(
    '%s: refused with a 500 naming the option; no cookie is written',
    async (_label, bad) => {
      const app = middleware((env) => {
        env['tsgix.session']!.user = 'ann'
        Object.assign(env['tsgix.session.options']!, bad)
        return [200, [], ['ok']]
      })
      await testApp(app, async (fetch, ctx) => {
        const res = await fetch('/')
        expect(res.status).toBe(500)
        expect(res.headers.getSetCookie()).toEqual([])
        expect(await res.text()).not.toContain('ok')
        expect(ctx.errors()).toMatch(/Session: tsgix\.session\.options\.(sameSite|path|domain|maxAge) /)
        expect(ctx.errors()).not.toMatch(/session store failed/)
      })
    },
  )

  it('valid overrides still apply', async () => {
    const app = middleware((env) => {
      env['tsgix.session']!.user = 'ann'
      Object.assign(env['tsgix.session.options']!, { sameSite: 'Strict', path: '/app', maxAge: 60 })
      return [200, [], ['ok']]
    })
    await testApp(app, async (fetch) => {
      const cookie = (await fetch('/')).headers.getSetCookie()[0]!
      expect(cookie).toMatch(/; Max-Age=60; Path=\/app; Expires=.*; HttpOnly; SameSite=Strict$/)
    })
  })
})
