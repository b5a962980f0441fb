import { describe, expect, it } from 'vitest'
import { builder, enableIf } from '../../builder/index.js'
import { conditional } from '../../middleware/conditional.js'
import { headerGet, headerSet } from '../../src/headers.js'
import { requestEnv } from '../../src/testing/index.js'
import type { App, Env, Middleware, Triple } from '../../src/types.js'
import { callTriple } from './forms.js'

const hello: App = () => [200, ['Content-Type', 'text/plain'], ['Hello']]

const xFramework =
  (framework: string): Middleware =>
  (app) =>
  async (env) => {
    const res = (await app(env)) as Triple
    headerSet(res[1], 'X-Framework', framework)
    return res
  }

const allCaps: Middleware = (app) => async (env) => {
  const res = (await app(env)) as Triple
  res[2] = (res[2] as string[]).map((s) => s.toUpperCase())
  return res
}

const fooIsBar = (env: Env) => /Bar/i.test(String(env.HTTP_X_FOO ?? ''))
const allCapsHeader = (env: Env) => Boolean(env.HTTP_X_ALLCAPS)

// Plack's conditional.t (builder + enable_if) and conditional_new.t (the middleware by hand).
describe.each([
  [
    'enableIf in a builder',
    () => builder(enableIf(fooIsBar, xFramework('Testing')), enableIf(allCapsHeader, allCaps), hello),
  ],
  [
    'conditional() by hand',
    () => {
      const mw1 = conditional({ condition: fooIsBar, builder: xFramework('Testing') })
      const mw2 = conditional({ condition: allCapsHeader, builder: allCaps })
      return mw1(mw2(hello))
    },
  ],
])('Conditional: %s', (_, make) => {
  const app = make()

  it('passes requests that match no condition to the plain app', async () => {
    const res = await callTriple(app, requestEnv())
    expect(headerGet(res[1], 'X-Framework')).toBeUndefined()
    expect(res[2]).toEqual(['Hello'])
  })

  it('applies the first layer when X-Foo matches /Bar/i', async () => {
    const res = await callTriple(app, requestEnv({ HTTP_X_FOO: 'Bar' }))
    expect(headerGet(res[1], 'X-Framework')).toMatch(/Testing/)
    expect((await callTriple(app, requestEnv({ HTTP_X_FOO: 'xbArx' })))[1]).toContain('X-Framework')
  })

  it('applies the second layer when X-AllCaps is set', async () => {
    const res = await callTriple(app, requestEnv({ HTTP_X_ALLCAPS: '1' }))
    expect(res[2]).toEqual(['HELLO'])
    expect(headerGet(res[1], 'X-Framework')).toBeUndefined()
  })

  it('applies both when both hold', async () => {
    const res = await callTriple(app, requestEnv({ HTTP_X_FOO: 'bar', HTTP_X_ALLCAPS: '1' }))
    expect(res[2]).toEqual(['HELLO'])
    expect(headerGet(res[1], 'X-Framework')).toBe('Testing')
  })
})

describe('Conditional', () => {
  it('builds the wrapped app once, when applied, not per request', async () => {
    let built = 0
    const counting: Middleware = (app) => {
      built++
      return app
    }
    const app = conditional({ condition: () => true, builder: counting })(hello)
    expect(built).toBe(1)
    await callTriple(app, requestEnv())
    await callTriple(app, requestEnv())
    expect(built).toBe(1)
  })

  it('evaluates the condition per request with the env', async () => {
    const seen: string[] = []
    const app = conditional({
      condition: (env) => {
        seen.push(env.PATH_INFO)
        return false
      },
      builder: allCaps,
    })(hello)
    await callTriple(app, { ...requestEnv(), PATH_INFO: '/a' })
    await callTriple(app, { ...requestEnv(), PATH_INFO: '/b' })
    expect(seen).toEqual(['/a', '/b'])
  })

  it('passes delayed responses through untouched', async () => {
    const delayed: App = () => (respond) => respond([200, [], ['late']])
    const app = conditional({ condition: () => false, builder: allCaps })(delayed)
    const res = await app(requestEnv())
    expect(typeof res).toBe('function')
  })

  const yes = (): boolean => true
  it.each<[string, unknown, RegExp]>([
    ['no options', undefined, /Conditional: option 'condition' is required/],
    ['a non-object', 'x', /Conditional: options must be an object, got 'x'/],
    ['an unknown key', { condition: yes, builder: allCaps, when: 1 }, /Conditional: unknown option 'when'/],
    ['a missing condition', { builder: allCaps }, /Conditional: option 'condition' is required/],
    ['a missing builder', { condition: yes }, /Conditional: option 'builder' is required/],
    [
      'a non-function condition',
      { condition: true, builder: allCaps },
      /option 'condition' must be a function, got true/,
    ],
    ['a non-function builder', { condition: yes, builder: 'Lint' }, /option 'builder' must be a function/],
  ])('rejects %s with a TypeError at build time', (_, options, message) => {
    const build = () => conditional(options as never)
    expect(build).toThrow(TypeError)
    expect(build).toThrow(message)
  })

  it('rejects a builder that does not return an app', () => {
    const mw = conditional({ condition: () => true, builder: () => 'x' as unknown as App })
    expect(() => mw(hello)).toThrow(/Conditional: option builder must return an app/)
  })
})
