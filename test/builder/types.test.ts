/**
 * Type-level checks of the builder DSL: `tsc --noEmit -p .` fails if any `@ts-expect-error`
 * line below compiles. The runtime assertions check that the well-typed calls also build.
 */
import { describe, expect, it } from 'vitest'
import { builder, enable, enableIf, mount } from '../../builder/index.js'
import type { App, Middleware } from '../../src/types.js'

const ok: App = () => [200, [], ['ok']]
const identity: Middleware = (app) => app
const factory = (options: { level: number }): Middleware => {
  if (typeof options.level !== 'number') throw new TypeError('factory: level')
  return identity
}

describe('builder types', () => {
  it('accepts well-typed parts', () => {
    const parts = [
      enable('Lint'),
      enable('Lint', { strict: false }),
      enable('Conditional', { condition: (env) => env.PATH_INFO === '/', builder: identity }),
      enable(factory, { level: 1 }),
      enable(() => identity),
      enable(identity),
      enableIf((env) => env.REQUEST_METHOD === 'GET', 'Lint', { name: 'get' }),
      enableIf(() => true, factory, { level: 2 }),
      enableIf(() => true, identity),
    ]
    expect(typeof builder(...parts, ok)).toBe('function')
    expect(typeof builder(mount('/', ok))).toBe('function')
  })

  it('rejects ill-typed parts at compile time (and at run time)', () => {
    const attempts: (() => unknown)[] = [
      // @ts-expect-error: unknown built-in name
      () => enable('NoSuchMiddleware'),
      // @ts-expect-error: unknown option of Lint
      () => enable('Lint', { bogus: true }),
      // @ts-expect-error: wrong option type for Lint
      () => enable('Lint', { strict: 'yes' }),
      // @ts-expect-error: Conditional requires options
      () => enable('Conditional'),
      // @ts-expect-error: Conditional requires a builder
      () => enable('Conditional', { condition: () => true }),
      // @ts-expect-error: a factory's options are checked against its parameter
      () => enable(factory, { level: 'high' }),
      // @ts-expect-error: enableIf needs a condition first
      () => enableIf('Lint'),
      // @ts-expect-error: mount needs an app
      () => mount('/x', 'not an app'),
      // @ts-expect-error: an app must be the last part
      () => builder(ok, enable(identity)),
    ]
    for (const attempt of attempts) expect(attempt).toThrow(TypeError)
  })
})
