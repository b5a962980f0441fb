/**
 * The `lifespan({ startup, shutdown })` builder part, and how the builder gathers hooks: from
 * lifespan parts, enabled middleware, mounted apps (nested builders included) and the trailing
 * app, in part order; startups run in that order and shutdowns in reverse, under both test
 * harness implementations.
 */
import { describe, expect, it } from 'vitest'
import { builder, enable, enableIf, lifespan, mount } from '../../builder/index.js'
import { memoryStore } from '../../middleware/session/store-memory.js'
import { type LifespanHooks, lifespanOf, withLifespan } from '../../src/lifespan.js'
import { startLifespan } from '../../src/server/lifespan.js'
import { testApp } from '../../src/testing/index.js'
import type { App, Middleware } from '../../src/types.js'

const text =
  (body: string): App =>
  () => [200, ['Content-Type', 'text/plain'], [body]]

/** Hooks that log `startup <name>` and `shutdown <name>` to `log`. */
function logged(log: string[], name: string): LifespanHooks {
  return {
    startup: () => {
      log.push(`startup ${name}`)
    },
    shutdown: () => {
      log.push(`shutdown ${name}`)
    },
  }
}

/** A pass-through middleware carrying `hooks`. */
function carrying(hooks: LifespanHooks): Middleware {
  return withLifespan((app: App) => app, hooks)
}

/** Starts and stops `app`'s hooks; returns the log. */
async function cycle(app: App, log: string[]): Promise<string[]> {
  const errors: string[] = []
  const started = await startLifespan(app, { write: (m) => errors.push(m) })
  log.push('serving')
  await started.shutdown()
  expect(errors).toEqual([])
  return log
}

describe('lifespan()', () => {
  it.each([
    ['no hooks', () => lifespan(undefined as never), /lifespan: expected the hooks/],
    [
      'hooks that are not an object',
      () => lifespan((() => {}) as never),
      /lifespan: options must be an object/,
    ],
    ['an unknown key', () => lifespan({ onStart: () => {} } as never), /lifespan: unknown option 'onStart'/],
    [
      'a startup that is not a function',
      () => lifespan({ startup: 'db.connect()' } as never),
      /lifespan: option 'startup' must be a function/,
    ],
    [
      'a shutdown that is not a function',
      () => lifespan({ shutdown: true } as never),
      /lifespan: option 'shutdown' must be a function/,
    ],
  ])('throws a TypeError for %s', (_, call, message) => {
    expect(call).toThrow(TypeError)
    expect(call).toThrow(message)
  })

  it('takes one hook or both', () => {
    expect(() => lifespan({ startup: () => {} })).not.toThrow()
    expect(() => lifespan({ shutdown: async () => {} })).not.toThrow()
    expect(() => lifespan({})).not.toThrow()
  })
})

describe('builder and lifespan hooks', () => {
  it('runs startups in part order (outermost first) and shutdowns in reverse', async () => {
    const log: string[] = []
    const app = builder(
      lifespan(logged(log, 'db')),
      enable(carrying(logged(log, 'middleware'))),
      lifespan(logged(log, 'cache')),
      withLifespan(text('ok'), logged(log, 'app')),
    )
    expect(await cycle(app, log)).toEqual([
      'startup db',
      'startup middleware',
      'startup cache',
      'startup app',
      'serving',
      'shutdown app',
      'shutdown cache',
      'shutdown middleware',
      'shutdown db',
    ])
  })

  it('carries the hooks of mounted apps and nested builders up', async () => {
    const log: string[] = []
    const admin = builder(
      lifespan(logged(log, 'admin')),
      enable(carrying(logged(log, 'auth'))),
      text('admin'),
    )
    const api = builder(mount('/v1', builder(lifespan(logged(log, 'v1')), text('v1'))))
    const app = builder(
      lifespan(logged(log, 'outer')),
      mount('/admin', admin),
      mount('/api', api),
      mount('/', withLifespan(text('home'), logged(log, 'home'))),
    )
    await cycle(app, log)
    expect(log).toEqual([
      'startup outer',
      'startup admin',
      'startup auth',
      'startup v1',
      'startup home',
      'serving',
      'shutdown home',
      'shutdown v1',
      'shutdown auth',
      'shutdown admin',
      'shutdown outer',
    ])
    await testApp(app, async (fetch) => {
      expect(await (await fetch('/api/v1/x')).text()).toBe('v1')
      expect(await (await fetch('/admin')).text()).toBe('admin')
    })
  })

  it('carries the hooks of an enableIf layer, whatever its condition', async () => {
    const log: string[] = []
    const app = builder(
      enableIf(() => false, carrying(logged(log, 'if'))),
      text('ok'),
    )
    await cycle(app, log)
    expect(log).toEqual(['startup if', 'serving', 'shutdown if'])
  })

  it('takes part for a middleware enabled by name: Session with a store that has startup/shutdown', async () => {
    const log: string[] = []
    const store = {
      ...memoryStore(),
      startup: async () => {
        log.push('store connect')
      },
      shutdown: async () => {
        log.push('store quit')
      },
    }
    const app = builder(lifespan(logged(log, 'first')), enable('Session', { store }), text('ok'))
    await cycle(app, log)
    expect(log).toEqual(['startup first', 'store connect', 'serving', 'store quit', 'shutdown first'])
  })

  it('runs a hooks object reachable twice once', async () => {
    const log: string[] = []
    const shared = withLifespan(text('shared'), logged(log, 'shared'))
    const app = builder(mount('/a', shared), mount('/b', shared))
    expect(lifespanOf(app)).toHaveLength(1)
    await cycle(app, log)
    expect(log).toEqual(['startup shared', 'serving', 'shutdown shared'])
  })

  it("never adds hooks to the caller's own app", async () => {
    const log: string[] = []
    const plain = text('plain')
    const app = builder(lifespan(logged(log, 'part')), plain)
    expect(app).not.toBe(plain)
    expect(lifespanOf(plain)).toEqual([])
    expect(lifespanOf(app)).toHaveLength(1)
    await testApp(app, async (fetch) => {
      expect(await (await fetch('/')).text()).toBe('plain')
    })

    const own = logged(log, 'own')
    const carried = withLifespan(text('carried'), own)
    const outer = builder(lifespan(logged(log, 'outer')), carried)
    expect(lifespanOf(carried)).toEqual([own])
    expect(lifespanOf(outer)).toHaveLength(2)
  })

  it('returns the app itself when the parts add no hooks', () => {
    const log: string[] = []
    const plain = text('plain')
    expect(builder(plain)).toBe(plain)
    const carried = withLifespan(text('carried'), logged(log, 'own'))
    expect(builder(carried)).toBe(carried)
    expect(lifespanOf(builder(enable(carrying({})), plain))).toHaveLength(1)
  })

  it('on a failed startup, shuts down what had started, in reverse, and fails with the error', async () => {
    const log: string[] = []
    const failure = new Error('cache unreachable')
    const app = builder(
      lifespan(logged(log, 'db')),
      mount(
        '/',
        builder(
          lifespan(logged(log, 'inner')),
          lifespan({
            startup: () => {
              log.push('startup cache')
              throw failure
            },
            shutdown: () => {
              log.push('shutdown cache')
            },
          }),
          lifespan(logged(log, 'never')),
          text('x'),
        ),
      ),
    )
    const errors: string[] = []
    await expect(startLifespan(app, { write: (m) => errors.push(m) })).rejects.toBe(failure)
    expect(log).toEqual(['startup db', 'startup inner', 'startup cache', 'shutdown inner', 'shutdown db'])
    expect(errors).toEqual([])
  })

  it('names lifespan(...) among the parts it takes', () => {
    expect(() => builder(42 as never, text('x'))).toThrow(
      /enable\(\.\.\.\), enableIf\(\.\.\.\), mount\(\.\.\.\), lifespan\(\.\.\.\) or an app/,
    )
  })

  it.each(['MockHTTP', 'Server'] as const)(
    'under testApp (%s): startup before the first request, shutdown after the test',
    async (impl) => {
      const log: string[] = []
      const app = builder(lifespan(logged(log, 'db')), (env) => {
        log.push(`request ${env.PATH_INFO}`)
        return [200, [], ['ok']]
      })
      await testApp(
        app,
        async (fetch) => {
          expect((await fetch('/one')).status).toBe(200)
          expect((await fetch('/two')).status).toBe(200)
          log.push('test over')
        },
        { impl },
      )
      expect(log).toEqual(['startup db', 'request /one', 'request /two', 'test over', 'shutdown db'])
    },
  )

  it.each(['MockHTTP', 'Server'] as const)(
    'under testApp (%s): a failing startup rejects the test',
    async (impl) => {
      const failure = new Error('no database')
      const app = builder(lifespan({ startup: () => Promise.reject(failure) }), text('x'))
      let called = false
      await expect(
        testApp(
          app,
          () => {
            called = true
          },
          { impl },
        ),
      ).rejects.toBe(failure)
      expect(called).toBe(false)
    },
  )
})
