/**
 * `withLifespan` and `lifespanOf`: a new function carrying hooks, in order, each hooks object
 * once, the caller's function unchanged; bad hooks are TypeErrors naming withLifespan and the
 * option.
 */
import { describe, expect, it } from 'vitest'
import { type LifespanHooks, lifespanOf, withLifespan } from '../src/lifespan.js'
import { testApp } from '../src/testing/index.js'
import type { App, Middleware } from '../src/types.js'

const text =
  (body: string): App =>
  () => [200, ['Content-Type', 'text/plain'], [body]]

describe('withLifespan', () => {
  it("gives a function that calls the app and carries the hooks; the app's own stays bare", async () => {
    const app = text('hi')
    const hooks: LifespanHooks = { startup: () => {} }
    const carried = withLifespan(app, hooks)
    expect(carried).not.toBe(app)
    expect(lifespanOf(carried)).toEqual([hooks])
    expect(lifespanOf(carried)[0]).toBe(hooks)
    expect(lifespanOf(app)).toEqual([])
    await testApp(carried, async (fetch) => {
      expect(await (await fetch('/')).text()).toBe('hi')
    })
  })

  it('keeps the name and the one parameter, so enable() still takes a middleware as one', () => {
    const stamp: Middleware = function stamp(app) {
      return app
    }
    const carried = withLifespan(stamp, { shutdown: () => {} })
    expect(carried.name).toBe('stamp')
    expect(carried.length).toBe(1)
    const inner = text('x')
    expect(carried(inner)).toBe(inner)
  })

  it('adds after the hooks the target carries, each hooks object once', () => {
    const a: LifespanHooks = { startup: () => {} }
    const b: LifespanHooks = { shutdown: () => {} }
    const once = withLifespan(text('x'), a)
    const twice = withLifespan(once, b, a)
    expect(lifespanOf(twice)).toEqual([a, b])
    expect(lifespanOf(once)).toEqual([a])
    expect(Object.isFrozen(lifespanOf(twice))).toBe(true)
    expect(withLifespan(once, a)).toBe(once)
  })

  it('is empty for functions without hooks and for anything else', () => {
    expect(lifespanOf(text('x'))).toEqual([])
    expect(lifespanOf(undefined)).toEqual([])
    expect(lifespanOf({ startup: () => {} })).toEqual([])
  })

  it.each([
    [
      'a target that is not a function',
      () => withLifespan({} as never, {}),
      /withLifespan: the target must be a function/,
    ],
    [
      'hooks that are not an object',
      () => withLifespan(text('x'), 'x' as never),
      /withLifespan: options must be an object/,
    ],
    ['missing hooks', () => withLifespan(text('x'), undefined as never), /withLifespan: expected the hooks/],
    [
      'an unknown key',
      () => withLifespan(text('x'), { start: () => {} } as never),
      /withLifespan: unknown option 'start'/,
    ],
    [
      'a startup that is not a function',
      () => withLifespan(text('x'), { startup: 'connect' } as never),
      /withLifespan: option 'startup' must be a function/,
    ],
    [
      'a shutdown that is not a function',
      () => withLifespan(text('x'), { shutdown: 1 } as never),
      /withLifespan: option 'shutdown' must be a function/,
    ],
  ])('throws a TypeError for %s', (_, call, message) => {
    expect(call).toThrow(TypeError)
    expect(call).toThrow(message)
  })
})
