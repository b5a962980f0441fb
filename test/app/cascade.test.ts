import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Cascade, cascade } from '../../src/app/cascade.js'
import { file } from '../../src/app/file.js'
import { requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { App, Env } from '../../src/types.js'
import { FORMS, type Probe, respondIn } from '../middleware/forms.js'

const dir = mkdtempSync(join(tmpdir(), 'tsgi-cascade-'))
mkdirSync(join(dir, 'one'))
mkdirSync(join(dir, 'two'))
writeFileSync(join(dir, 'one', 'access_log.t'), 'first root')
writeFileSync(join(dir, 'two', 'foreach.t'), 'second root')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const go = (app: App, env: Env) => runResponse(Promise.resolve(app(env)))

describe('Cascade', () => {
  // Plack's cascade/basic.t
  it('answers 404 with no apps, then tries the added apps in order', async () => {
    const c = new Cascade()
    await testApp(c.toApp(), async (fetch) => {
      expect((await fetch('/')).status).toBe(404)
    })
    c.add(file({ root: join(dir, 'one') }))
    c.add(file({ root: join(dir, 'two') }))
    c.add(() => [404, [], ['Custom 404 Page']])
    await testApp(c.toApp(), async (fetch) => {
      let res = await fetch('/access_log.t')
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('first root')

      res = await fetch('/foo')
      expect(res.status).toBe(404)
      expect(await res.text()).toBe('Custom 404 Page')

      res = await fetch('/foreach.t')
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('second root')
    })
  })

  // Plack's cascade/streaming.t
  it('handles delayed and writer responses, with catch: [403, 404]', async () => {
    const app = cascade(
      [
        () => (respond) => respond([404, [], ['Duh']]),
        () => [403, ['Content-Type', 'text/plain'], ['Forbidden']],
        (env) => async (respond) => {
          if (env.PATH_INFO === '/') {
            const w = respond([200, ['Content-Type', 'text/plain']])
            await w.write('Hello')
            await w.close()
          } else respond([404, ['Content-Type', 'text/plain'], ['Custom 404 Page']])
        },
      ],
      { catch: [403, 404] },
    )
    await testApp(app, async (fetch) => {
      let res = await fetch('/')
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('Hello')

      res = await fetch('/xyz')
      expect(res.status).toBe(404)
      expect(await res.text()).toBe('Custom 404 Page')
    })
  })

  it.each(FORMS)('skips a caught %s response, closing its body, and uses the next', async (form) => {
    const probe: Probe = { pulled: 0, closed: false }
    const app = cascade([
      () => respondIn(form, 404, ['Content-Type', 'text/plain'], ['nope', 'more'], probe),
      () => respondIn(form, 200, ['Content-Type', 'text/plain'], ['found ', 'it']),
    ])
    const out = await go(app, requestEnv())
    expect(out).toMatchObject({ status: 200, body: 'found it' })
    expect(probe.pulled).toBe(0)
  })

  it.each(FORMS)('uses the first %s response whose status is not caught', async (form) => {
    let calls = 0
    const app = cascade(
      [
        () => respondIn(form, 405, [], ['not allowed']),
        () => respondIn(form, 500, [], ['broken']),
        () => {
          calls++
          return [200, [], ['never']]
        },
      ],
      { catch: [404, 405] },
    )
    const out = await go(app, requestEnv())
    expect(out).toMatchObject({ status: 500, body: 'broken' })
    expect(calls).toBe(0)
  })

  it.each(FORMS)("always uses the last app's %s response", async (form) => {
    const app = cascade([() => [404, [], ['a']], () => respondIn(form, 404, [], ['last ', '404'])])
    expect(await go(app, requestEnv())).toMatchObject({ status: 404, body: 'last 404' })
  })

  it('returns a finished response (no delayed wrapper) when every app does', async () => {
    const app = cascade([() => [404, [], []], async () => [200, [], ['ok']]])
    const res = await app(requestEnv())
    expect(Array.isArray(res)).toBe(true)
  })

  it('passes an error of the deciding app to the server', async () => {
    const app = cascade([
      () => [404, [], []],
      () => () => {
        throw new Error('boom in delayed')
      },
      () => [200, [], ['unused']],
    ])
    await testApp(app, async (fetch, ctx) => {
      expect((await fetch('/')).status).toBe(500)
      expect(ctx.errors()).toContain('boom in delayed')
    })
  })

  it('lists its apps', () => {
    const a: App = () => [200, [], []]
    expect(new Cascade([a]).add(a).apps).toEqual([a, a])
  })

  it.each([
    [() => new Cascade([], { catch: 404 as never }), /Cascade: option 'catch' must be an array/],
    [
      () => new Cascade([], { catch: [40.4] }),
      /Cascade: option 'catch' must be an array of integer statuses/,
    ],
    [() => new Cascade([], { codes: [404] } as never), /Cascade: unknown option 'codes'/],
    [() => cascade(['app' as never]), /Cascade: an app must be a function/],
    [() => new Cascade().add(null as never), /Cascade: an app must be a function/],
  ])('rejects bad arguments (%#)', (make, message) => {
    expect(make).toThrow(TypeError)
    expect(make).toThrow(message)
  })
})
