import { describe, expect, it } from 'vitest'
import { httpExceptions } from '../../middleware/http-exceptions.js'
import { ForwardRequest, recursive } from '../../middleware/recursive.js'
import { HttpError } from '../../src/http-error.js'
import { testApp } from '../../src/testing/index.js'
import type { AppResult, Env } from '../../src/types.js'

const hello = (env: Env): AppResult => [200, ['Content-Type', 'text/plain'], [`Hello ${env.QUERY_STRING}`]]
const helloDelayed =
  (env: Env): AppResult =>
  (respond) =>
    respond(hello(env) as [number, string[], string[]])

describe('Recursive', () => {
  // Plack's recursive/base.t and recursive/streaming.t
  it.each([
    [
      'a finished response',
      hello,
      (env: Env) => env['tsgix.recursive.include']?.('/forwarded?q=bar') as AppResult,
    ],
    [
      'a delayed response',
      helloDelayed,
      (env: Env): AppResult =>
        async (respond) => {
          const r = await env['tsgix.recursive.include']?.('/forwarded?q=bar')
          if (typeof r === 'function') await r(respond)
          else if (r) respond(r)
        },
    ],
  ])('includes another path with %s', async (_, target, caller) => {
    const seen: (string[] | undefined)[] = []
    const app = recursive()((env) => {
      if (env.PATH_INFO === '/forwarded') {
        seen.push(env['tsgix.recursive.old_path_info'])
        return target(env)
      }
      return caller(env)
    })
    await testApp(app, async (fetch) => {
      const res = await fetch('/')
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('Hello q=bar')
      expect(seen).toEqual([['/']])
    })
  })

  // Plack's recursive/throw.t and recursive/throw_streaming.t
  it.each([
    [
      'thrown',
      (path: string) => (): AppResult => {
        throw new ForwardRequest(path)
      },
    ],
    [
      'rejected',
      (path: string) => async (): Promise<AppResult> => {
        throw new ForwardRequest(path)
      },
    ],
    [
      'thrown in a delayed response',
      (path: string) => (): AppResult => () => {
        throw new ForwardRequest(path)
      },
    ],
    [
      'rejected in a delayed response',
      (path: string) => (): AppResult => async () => {
        throw new ForwardRequest(path)
      },
    ],
  ])('forwards on a ForwardRequest %s', async (_, forward) => {
    const seen: (string[] | undefined)[] = []
    const app = recursive()((env) => {
      if (env.PATH_INFO === '/forwarded2') {
        seen.push(env['tsgix.recursive.old_path_info'])
        return helloDelayed(env)
      }
      if (env.PATH_INFO === '/forwarded') return forward('/forwarded2?q=bar')()
      if (env.PATH_INFO === '/die') throw new Error('Foo')
      return forward('/forwarded')()
    })
    await testApp(app, async (fetch, ctx) => {
      let res = await fetch('/')
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('Hello q=bar')
      expect(seen).toEqual([['/', '/forwarded']])

      res = await fetch('/die')
      expect(res.status).toBe(500)
      expect(ctx.errors()).toContain('Foo')
    })
  })

  it('forwards as a GET without a body on a copy of the env', async () => {
    let forwarded: Env | undefined
    let original: Env | undefined
    const app = recursive()((env) => {
      if (env.PATH_INFO === '/target') {
        forwarded = env
        return [200, [], ['ok']]
      }
      original = env
      throw new ForwardRequest('/target')
    })
    await testApp(app, async (fetch) => {
      const res = await fetch('/form?x=1', {
        method: 'POST',
        body: 'a=b',
        headers: { 'Content-Type': 'text/plain' },
      })
      expect(await res.text()).toBe('ok')
    })
    expect(forwarded).toMatchObject({
      REQUEST_METHOD: 'GET',
      PATH_INFO: '/target',
      QUERY_STRING: '',
      REQUEST_URI: '/target',
    })
    expect(forwarded?.CONTENT_LENGTH).toBeUndefined()
    expect(forwarded?.CONTENT_TYPE).toBeUndefined()
    expect(original).toMatchObject({ REQUEST_METHOD: 'POST', PATH_INFO: '/form', QUERY_STRING: 'x=1' })
  })

  it('stops a forwarding loop at maxDepth', async () => {
    const app = recursive({ maxDepth: 3 })((env) => {
      throw new ForwardRequest(`${env.PATH_INFO}x`)
    })
    await testApp(app, async (fetch, ctx) => {
      const res = await fetch('/')
      expect(res.status).toBe(500)
      expect(ctx.errors()).toContain(
        'Recursive: more than 3 includes or forwards (/ → /x → /xx → /xxx → /xxxx)',
      )
    })
  })

  it('lets other errors through to an outer HTTPExceptions', async () => {
    const app = httpExceptions()(
      recursive()((env) => {
        if (env.PATH_INFO === '/private') throw new HttpError(403)
        throw new ForwardRequest('/private')
      }),
    )
    await testApp(app, async (fetch) => {
      const res = await fetch('/')
      expect(res.status).toBe(403)
      expect(await res.text()).toBe('Forbidden')
    })
  })

  it('explains itself when nothing catches a ForwardRequest', () => {
    expect(new ForwardRequest('/x').message).toMatch(/Forwarding to \/x: .*Recursive middleware/)
  })

  it.each([
    [{ maxDepth: 0 }, /Recursive: option 'maxDepth' must be an integer >= 1/],
    [{ maxDepth: 1.5 }, /Recursive: option 'maxDepth' must be an integer >= 1/],
    [{ depth: 3 }, /Recursive: unknown option 'depth'/],
  ])('rejects bad options %o', (options, message) => {
    expect(() => recursive(options as never)).toThrow(TypeError)
    expect(() => recursive(options as never)).toThrow(message)
  })
})
