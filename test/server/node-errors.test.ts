import { describe, expect, it } from 'vitest'
import { HttpError } from '../../src/http-error.js'
import type { App } from '../../src/types.js'
import { deferred, raw, start } from './node-helpers.js'

const close = 'Connection: close\r\n\r\n'

function split(text: string): { head: string; body: string } {
  const i = text.indexOf('\r\n\r\n')
  return { head: text.slice(0, i), body: text.slice(i + 4) }
}

async function get(port: number, method = 'GET'): Promise<string> {
  return raw(port, `${method} / HTTP/1.1\r\nHost: h\r\n${close}`)
}

describe('validation before writing', () => {
  it.each([
    [
      'CR/LF in a value',
      () => [200, ['X-Ok', 'fine', 'X-Evil', 'a\r\nSet-Cookie: pwned=1'], ['body']],
      /X-Evil/,
    ],
    ['a bad name', () => [200, ['Bad Name', 'v'], ['body']], /Bad Name/],
    ['a NUL in a value', () => [200, ['X-Nul', 'a\0b'], ['body']], /X-Nul/],
    ['an odd-length list', () => [200, ['Content-Type'], ['body']], /odd length/],
    ['a status below 100', () => [99, [], ['body']], /status 99/],
    ['a status above 999', () => [1000, [], ['body']], /status 1000/],
    ['a string status', () => ['200', [], ['body']], /status "200"/],
    ['a non-string value', () => [200, ['X-Num', 5], ['body']], /X-Num/],
    ['a string body', () => [200, ['X-Ok', 'fine'], 'body'], /invalid body/],
    ['a null body', () => [200, ['X-Ok', 'fine'], null], /invalid body/],
    ['a number in an array body', () => [200, ['X-Ok', 'fine'], ['a', 5]], /index 1/],
    ['a head without a body from a plain app', () => [200, ['X-Ok', 'fine']], /invalid body/],
    ['a number as the app result', () => 42, /app returned number/],
  ])('%s: 500, nothing of the response written, message on tsgi.errors', async (_name, make, message) => {
    const { port, errors } = await start(make as unknown as App)
    const text = await get(port)
    const { head, body } = split(text)
    expect(head).toMatch(/^HTTP\/1\.1 500 Internal Server Error/)
    expect(body).toBe('Internal Server Error')
    expect(text).not.toMatch(/X-Ok|X-Evil|pwned|Bad Name|X-Num|X-Nul/)
    expect(errors.text).toMatch(message)
  })

  it('validates a writer head too, and the writer rejects', async () => {
    let rejection: unknown
    const { port, errors } = await start(() => async (respond) => {
      const w = respond([200, ['X-Evil', 'a\nb']])
      await w.write('x').catch((err: unknown) => {
        rejection = err
      })
    })
    const text = await get(port)
    expect(text).toMatch(/^HTTP\/1\.1 500 /)
    expect(text).not.toMatch(/X-Evil/)
    expect(errors.text).toMatch(/X-Evil/)
    expect(String(rejection)).toMatch(/X-Evil/)
  })

  it('validates tsgix.reason_phrase', async () => {
    const { port, errors } = await start((env) => {
      env['tsgix.reason_phrase'] = 'Fine\r\nX-Evil: 1'
      return [200, [], ['ok']]
    })
    const text = await get(port)
    expect(text).toMatch(/^HTTP\/1\.1 500 /)
    expect(text).not.toMatch(/X-Evil/)
    expect(errors.text).toMatch(/reason_phrase/)
  })

  it('validates a chunk of a streamed body (head not yet out: 500)', async () => {
    const { port, errors } = await start(() => [
      200,
      [],
      (async function* () {
        yield 42 as unknown as string
      })(),
    ])
    expect(await get(port)).toMatch(/^HTTP\/1\.1 500 /)
    expect(errors.text).toMatch(/invalid body chunk.*number/)
  })
})

describe('application errors', () => {
  const boom = () => new Error('boom')
  it.each<[string, App]>([
    [
      'a sync throw',
      () => {
        throw boom()
      },
    ],
    [
      'a rejection',
      async () => {
        throw boom()
      },
    ],
    [
      'a throw inside a delayed response',
      () => () => {
        throw boom()
      },
    ],
    [
      'a rejection inside a delayed response',
      () => async () => {
        throw boom()
      },
    ],
    [
      'a body iterator that throws before its first chunk',
      () => [
        200,
        ['X-Ok', 'fine'],
        { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(boom()) }) },
      ],
    ],
  ])('%s: 500 and the stack on tsgi.errors; the server keeps answering', async (_name, app) => {
    let calls = 0
    const { port, url, errors } = await start((env) => (++calls === 1 ? app(env) : [200, [], ['alive']]))
    const text = await get(port)
    expect(text).toMatch(/^HTTP\/1\.1 500 Internal Server Error/)
    expect(text).not.toMatch(/X-Ok/)
    expect(split(text).body).toBe('Internal Server Error')
    expect(errors.text).toMatch(/Error: boom\n\s+at /)
    expect(errors.text).toMatch(/GET \//)
    expect(await (await fetch(url)).text()).toBe('alive')
  })

  it('an error after the head is out destroys the connection: the client sees an incomplete body', async () => {
    const { port, url, errors } = await start((env) =>
      env.PATH_INFO === '/ok'
        ? [200, [], ['alive']]
        : [
            200,
            [],
            (async function* () {
              yield 'partial'
              throw new Error('late failure')
            })(),
          ],
    )
    const text = await get(port)
    const { head, body } = split(text)
    expect(head).toMatch(/^HTTP\/1\.1 200 OK/)
    expect(head).toMatch(/Transfer-Encoding: chunked/)
    expect(body).toContain('partial')
    expect(body).not.toMatch(/0\r\n\r\n$/)
    await errors.waitFor(/late failure/)
    expect(await (await fetch(`${url}/ok`)).text()).toBe('alive')
  })

  it('a delayed app that rejects after its writer started destroys the connection', async () => {
    const { port, errors } = await start(() => async (respond) => {
      const w = respond([200, []])
      await w.write('partial')
      throw new Error('writer failure')
    })
    const { body } = split(await get(port))
    expect(body).toContain('partial')
    expect(body).not.toMatch(/0\r\n\r\n$/)
    expect(errors.text).toMatch(/writer failure/)
  })

  it.each<[string, unknown, number, string]>([
    ['HttpError 404', new HttpError(404, 'no such thing'), 404, 'Not Found'],
    ['HttpError 503 (not exposed)', new HttpError(503, 'db password is hunter2'), 503, 'Service Unavailable'],
    [
      'an error with status 418 and expose',
      Object.assign(new Error('short and stout'), { status: 418, expose: true }),
      418,
      "I'm a Teapot",
    ],
    ['an error with status 400', Object.assign(new Error('bad input'), { status: 400 }), 400, 'Bad Request'],
    [
      'an error with status 200 (ignored)',
      Object.assign(new Error('x'), { status: 200 }),
      500,
      'Internal Server Error',
    ],
  ])('%s answers with its status', async (_name, err, status, body) => {
    const { port } = await start(() => {
      throw err
    })
    const text = await get(port)
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
    expect(split(text).body).toBe(body)
  })

  it('keeps the headers of an HttpError (a redirect)', async () => {
    const { port } = await start(() => {
      throw new HttpError(302, 'go', { headers: ['Location', '/login'] })
    })
    const text = await get(port)
    expect(text).toMatch(/^HTTP\/1\.1 302 /)
    expect(text).toMatch(/Location: \/login/)
  })

  it('a second respond() throws and sends nothing', async () => {
    const thrown = deferred<unknown>()
    const { port } = await start(() => (respond) => {
      respond([200, [], ['first']])
      try {
        respond([201, [], ['second']])
      } catch (err) {
        thrown.resolve(err)
      }
    })
    const text = await get(port)
    expect(text).toMatch(/^HTTP\/1\.1 200 /)
    expect(split(text).body).toBe('first')
    expect(String(await thrown.promise)).toMatch(/respond\(\) called twice/)
  })

  it('an unawaited writer rejection does not crash the process', async () => {
    const { port, url } = await start((env) =>
      env.PATH_INFO === '/ok'
        ? [200, [], ['alive']]
        : (respond) => {
            const w = respond([200, []])
            void w.close()
            void w.write('after close')
          },
    )
    await get(port)
    expect(await (await fetch(`${url}/ok`)).text()).toBe('alive')
  })
})
