import { createReadStream } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { head } from '../../middleware/head.js'
import { requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { App, Chunk, Env } from '../../src/types.js'
import { FORMS, type Form, type Probe, respondIn } from './forms.js'

// Plack's t/Plack-Middleware/head.t and head_streaming.t, in process and through a server.
describe.each(['MockHTTP', 'Server'] as const)('Head: Plack head.t and head_streaming.t (%s)', (impl) => {
  it('keeps Content-Length and drops the body of a finished response', async () => {
    const app = head()(() => {
      const body = 'Hello World'
      return [200, ['Content-Type', 'text/plain', 'Content-Length', String(body.length)], [body]]
    })
    await testApp(
      app,
      async (fetch) => {
        expect(await (await fetch('/')).text()).toBe('Hello World')
        const res = await fetch('/', { method: 'HEAD' })
        expect(await res.text()).toBe('')
        expect(res.headers.get('Content-Length')).toBe('11')
      },
      { impl },
    )
  })

  it('drops the body of a writer response', async () => {
    const app = head()(() => async (respond) => {
      const writer = respond([200, ['Content-Type', 'text/plain']])
      for (const word of ['Hello', 'World']) await writer.write(word)
      await writer.close()
    })
    await testApp(
      app,
      async (fetch) => {
        expect(await (await fetch('/')).text()).toBe('HelloWorld')
        const res = await fetch('/', { method: 'HEAD' })
        expect(await res.text()).toBe('')
        expect(res.headers.get('Content-Length')).toBeNull()
      },
      { impl },
    )
  })
})

describe('Head: every response form', () => {
  const headers = ['Content-Type', 'text/plain', 'Content-Length', '11']
  const chunks: Chunk[] = ['Hello ', 'World']

  it.each(FORMS)('%s body: none for HEAD, whole for GET', async (form: Form) => {
    const probe: Probe = { pulled: 0, closed: false }
    const seen: string[] = []
    const app = head()((env: Env) => {
      seen.push(env.REQUEST_METHOD)
      return respondIn(form, 200, headers, chunks, probe)
    })
    const res = await runResponse(app(requestEnv({ REQUEST_METHOD: 'HEAD' })))
    expect(seen).toEqual(['HEAD'])
    expect(res.status).toBe(200)
    expect(res.body).toBe('')
    expect(probe.pulled).toBe(0)
    // Every form keeps the app's Content-Length, as a GET would carry it.
    expect(res.headers).toEqual(headers)
    if (form !== 'writer') expect(res.raw).toEqual([])

    const get = await runResponse(app(requestEnv()))
    expect(get.body).toBe('Hello World')
    expect(get.headers).toEqual(headers)
  })

  it('closes an iterable body the app started, so its finally block runs', async () => {
    const probe = { pulled: 0, closed: false }
    const app: App = head()(async () => {
      const body = (async function* body() {
        try {
          probe.pulled++
          yield 'one'
          yield 'two'
        } finally {
          probe.closed = true
        }
      })()
      await body.next()
      return [200, [], body]
    })
    const res = await runResponse(app(requestEnv({ REQUEST_METHOD: 'HEAD' })))
    expect(res.raw).toEqual([])
    expect(probe).toEqual({ pulled: 1, closed: true })
  })

  it('closes an fs.ReadStream body unread, as any stream, and keeps the headers', async () => {
    const file = fileURLToPath(import.meta.url)
    let closed: Promise<void> | undefined
    const app = head()(() => {
      const stream = createReadStream(file)
      closed = new Promise((resolve) => stream.once('close', () => resolve()))
      return [200, ['Content-Type', 'text/plain', 'Content-Length', '5'], stream]
    })
    await testApp(app, async (fetch) => {
      const res = await fetch('/', { method: 'HEAD' })
      expect(res.status).toBe(200)
      expect(res.headers.get('Content-Length')).toBe('5')
      expect(await res.text()).toBe('')
    })
    await closed
  })

  it('reports a body that fails to close to tsgi.errors', async () => {
    const errors: string[] = []
    const body: AsyncIterable<string> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: true, value: undefined }),
        return: () => Promise.reject(new Error('stuck')),
      }),
    }
    const env = requestEnv({
      REQUEST_METHOD: 'HEAD',
      'tsgi.errors': { write: (m: string) => errors.push(m) },
    })
    const res = await runResponse(head()(() => [200, [], body])(env))
    expect(res.body).toBe('')
    expect(errors.join('')).toMatch(/Head: closing the response body failed: Error: stuck/)
  })

  it('rejects options with a TypeError', () => {
    expect(() => head({ x: 1 } as never)).toThrow(/Head: unknown option 'x'/)
    expect(() => head(null as never)).toThrow(TypeError)
  })
})
