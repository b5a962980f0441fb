import { afterEach, describe, expect, it, vi } from 'vitest'
import { MockHTTP, Server, type TestContext, testApp, testImpl } from '../../src/testing/index.js'
import type { App, Env } from '../../src/types.js'

const echo: App = async (env) => {
  const parts: Uint8Array[] = []
  for await (const c of env['tsgi.input']) parts.push(c)
  const seen = {
    method: env.REQUEST_METHOD,
    path: env.PATH_INFO,
    query: env.QUERY_STRING,
    host: env.HTTP_HOST,
    length: env.CONTENT_LENGTH ?? null,
    body: Buffer.concat(parts).toString(),
    remote: env.REMOTE_ADDR,
  }
  return [200, ['Content-Type', 'application/json'], [JSON.stringify(seen)]]
}

describe.each(['MockHTTP', 'Server'] as const)('testApp with %s', (impl) => {
  it('resolves a path and reports what the app saw', async () => {
    await testApp(
      echo,
      async (fetch, { url }) => {
        const res = await fetch('/foo%20bar?x=1')
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toBe('application/json')
        const seen = await res.json()
        expect(seen).toMatchObject({
          method: 'GET',
          path: '/foo bar',
          query: 'x=1',
          host: new URL(url).host,
          length: null,
        })
        expect(seen.remote).toBe('127.0.0.1')
      },
      { impl },
    )
  })

  it('sends a body with its Content-Length', async () => {
    await testApp(
      echo,
      async (fetch) => {
        const res = await fetch('/post', { method: 'POST', body: 'hello' })
        expect(await res.json()).toMatchObject({ method: 'POST', length: '5', body: 'hello' })
        const empty = await fetch('/post', { method: 'POST' })
        expect(await empty.json()).toMatchObject({ length: '0', body: '' })
      },
      { impl },
    )
  })

  it('streams a request body', async () => {
    await testApp(
      echo,
      async (fetch) => {
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode('str'))
            c.enqueue(new TextEncoder().encode('eam'))
            c.close()
          },
        })
        const res = await fetch('/', { method: 'PUT', body })
        expect(await res.json()).toMatchObject({ length: null, body: 'stream' })
      },
      { impl },
    )
  })

  it('passes an absolute URL host as Host', async () => {
    await testApp(
      echo,
      async (fetch) => {
        const seen = await (await fetch('http://api.example.com:8080/v1?q')).json()
        expect(seen).toMatchObject({ host: 'api.example.com:8080', path: '/v1', query: 'q' })
      },
      { impl },
    )
  })

  it('accepts a Request', async () => {
    await testApp(
      echo,
      async (fetch, { url }) => {
        const res = await fetch(new Request(new URL('/r', url), { method: 'POST', body: 'abc' }))
        expect(await res.json()).toMatchObject({ path: '/r', length: '3', body: 'abc' })
      },
      { impl },
    )
  })

  it('returns redirects as they are', async () => {
    await testApp(
      () => [302, ['Location', '/elsewhere'], []],
      async (fetch) => {
        const res = await fetch('/')
        expect(res.status).toBe(302)
        expect(res.headers.get('location')).toBe('/elsewhere')
      },
      { impl },
    )
  })

  it('collects tsgi.errors and forwards it to options.errors', async () => {
    const forwarded: string[] = []
    await testApp(
      (env) => {
        env['tsgi.errors'].write('from the app\n')
        throw new Error('kaboom')
      },
      async (fetch, { errors }) => {
        expect((await fetch('/')).status).toBe(500)
        expect(errors()).toMatch(/^from the app\n[\s\S]*kaboom/)
      },
      { impl, errors: { write: (m) => forwarded.push(m) } },
    )
    expect(forwarded.join('')).toMatch(/kaboom/)
  })

  it('streams a delayed response', async () => {
    await testApp(
      () => async (respond) => {
        const writer = respond([200, ['Content-Type', 'text/plain']])
        for (const word of ['a', 'b', 'c']) await writer.write(word)
        await writer.close()
      },
      async (fetch) => {
        expect(await (await fetch('/')).text()).toBe('abc')
      },
      { impl },
    )
  })

  it('has run cleanup handlers of finished responses when it resolves', async () => {
    const ran: string[] = []
    await testApp(
      (env: Env) => {
        env['tsgix.cleanup.handlers']?.push(() => void ran.push(env.PATH_INFO))
        return [200, [], ['ok']]
      },
      async (fetch) => {
        expect(await (await fetch('/one')).text()).toBe('ok')
      },
      { impl },
    )
    expect(ran).toEqual(['/one'])
  })

  it('passes on an error thrown by the test body', async () => {
    await expect(
      testApp(
        echo,
        () => {
          throw new Error('test failed')
        },
        { impl },
      ),
    ).rejects.toThrow('test failed')
  })
})

describe('choosing the implementation', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('defaults to MockHTTP', async () => {
    vi.stubEnv('TSGI_TEST_IMPL', '')
    expect(testImpl()).toBeInstanceOf(MockHTTP)
    await testApp(echo, (_fetch, ctx: TestContext) => expect(ctx.url).toBe('http://localhost'))
  })

  it('follows TSGI_TEST_IMPL', async () => {
    vi.stubEnv('TSGI_TEST_IMPL', 'Server')
    expect(testImpl()).toBeInstanceOf(Server)
    await testApp(echo, (_fetch, { url }) => expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/))
  })

  it('lets options.impl win over the environment', () => {
    vi.stubEnv('TSGI_TEST_IMPL', 'Server')
    expect(testImpl({ impl: 'MockHTTP' })).toBeInstanceOf(MockHTTP)
  })

  it('takes an implementation object', async () => {
    const calls: string[] = []
    const impl = { run: async () => void calls.push('run') }
    await testApp(echo, () => {}, { impl })
    expect(calls).toEqual(['run'])
  })

  it.each([
    [{ impl: 'Nope' }, /testApp: unknown option impl "Nope"/],
    [{ errors: 1 }, /MockHTTP: option errors/],
  ])('rejects %j with a TypeError', (options, message) => {
    expect(() => testImpl(options as never)).toThrow(TypeError)
    expect(() => testImpl(options as never)).toThrow(message)
  })

  it('rejects an unknown TSGI_TEST_IMPL', () => {
    vi.stubEnv('TSGI_TEST_IMPL', 'Mock')
    expect(() => testApp(echo, () => {})).toThrow(/unknown TSGI_TEST_IMPL "Mock"/)
  })
})

describe('Server', () => {
  it('closes the server after the test body, even when it throws', async () => {
    let url = ''
    await expect(
      new Server().run(echo, (_fetch, ctx) => {
        url = ctx.url
        throw new Error('stop')
      }),
    ).rejects.toThrow('stop')
    await expect(fetch(url)).rejects.toThrow()
  })
})

describe('MockHTTP', () => {
  it('rejects a fetch whose signal is aborted', async () => {
    await new MockHTTP().run(echo, async (fetch) => {
      await expect(fetch('/', { signal: AbortSignal.abort() })).rejects.toThrow()
    })
  })
})
