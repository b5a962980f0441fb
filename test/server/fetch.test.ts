import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileBody } from '../../src/body.js'
import { HttpError } from '../../src/http-error.js'
import { type FetchInfo, toFetchHandler } from '../../src/server/fetch.js'
import { decodePath } from '../../src/server/path.js'
import type { App, Env, Writer } from '../../src/types.js'

function collect() {
  const parts: string[] = []
  return { errors: { write: (m: string) => parts.push(m) }, text: () => parts.join('') }
}

async function call(app: App, input = 'http://localhost/', init?: RequestInit, info?: FetchInfo) {
  const log = collect()
  const response = await toFetchHandler(app, { errors: log.errors })(new Request(input, init), info)
  return { response, errors: log.text }
}

async function envOf(input: string, init?: RequestInit, info?: FetchInfo): Promise<Env> {
  let seen: Env | undefined
  await call(
    (env) => {
      seen = env
      return [200, [], []]
    },
    input,
    init,
    info,
  )
  if (!seen) throw new Error('app not called')
  return seen
}

/** An app that hands its env to `see` and answers with `body()`. */
function capture(see: (env: Env) => unknown, body: () => AsyncIterable<string>): App {
  return (env) => {
    see(env)
    return [200, [], body()]
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('env', () => {
  it.each([
    ['REQUEST_METHOD', 'http://localhost/', 'GET'],
    ['SCRIPT_NAME', 'http://localhost/a', ''],
    ['PATH_INFO', 'http://localhost/foo/bar%2cbaz', '/foo/bar,baz'],
    ['PATH_INFO', 'http://localhost/foo/bar%252cbaz', '/foo/bar%2cbaz'],
    ['PATH_INFO', 'http://localhost/caf%C3%A9', '/café'],
    ['REQUEST_URI', 'http://localhost/foo/bar%20baz%73?x=a', '/foo/bar%20baz%73?x=a'],
    ['QUERY_STRING', 'http://localhost/a?x=1&y', 'x=1&y'],
    ['QUERY_STRING', 'http://localhost/a', ''],
    ['SERVER_NAME', 'http://example.com:8080/', 'example.com'],
    ['SERVER_PORT', 'http://example.com:8080/', '8080'],
    ['SERVER_PORT', 'http://example.com/', '80'],
    ['SERVER_PORT', 'https://example.com/', '443'],
    ['SERVER_PROTOCOL', 'http://localhost/', 'HTTP/1.1'],
    ['HTTP_HOST', 'http://example.com:8080/', 'example.com:8080'],
    ['tsgi.url_scheme', 'https://example.com/', 'https'],
  ])('%s for %s is %j', async (key, url, expected) => {
    expect((await envOf(url))[key]).toBe(expected)
  })

  it('takes SERVER_NAME and SERVER_PORT from the Host header', async () => {
    const env = await envOf('http://localhost/', { headers: { Host: 'app.test:81' } })
    expect([env.SERVER_NAME, env.SERVER_PORT, env.HTTP_HOST]).toEqual(['app.test', '81', 'app.test:81'])
  })

  it('maps headers to HTTP_* and content headers to CGI keys', async () => {
    const env = await envOf('http://localhost/', {
      method: 'POST',
      body: 'abc',
      headers: {
        'X-Forwarded-For': '1.2.3.4',
        'Content-Type': 'text/x-a',
        'Content-Length': '3',
        Cookie: 'a=1',
      },
    })
    expect(env.HTTP_X_FORWARDED_FOR).toBe('1.2.3.4')
    expect([env.CONTENT_TYPE, env.CONTENT_LENGTH]).toEqual(['text/x-a', '3'])
    expect(env.HTTP_CONTENT_TYPE).toBeUndefined()
    expect(env.HTTP_CONTENT_LENGTH).toBeUndefined()
    expect(env.HTTP_COOKIE).toBe('a=1')
  })

  it('joins Cookie headers with "; "', async () => {
    const headers = new Headers()
    headers.append('Cookie', 'a=1')
    headers.append('Cookie', 'b=2')
    expect((await envOf('http://localhost/', { headers })).HTTP_COOKIE).toBe('a=1; b=2')
  })

  it('sets the tsgi keys and the remote address', async () => {
    const env = await envOf('http://localhost/', undefined, { remoteAddress: '10.0.0.1', remotePort: 5555 })
    expect(env['tsgi.version']).toEqual([1, 0])
    expect([env.REMOTE_ADDR, env.REMOTE_PORT]).toEqual(['10.0.0.1', '5555'])
    expect([env['tsgi.multithread'], env['tsgi.multiprocess'], env['tsgi.run_once']]).toEqual([
      false,
      false,
      false,
    ])
    expect([env['tsgi.nonblocking'], env['tsgi.streaming'], env['tsgix.cleanup']]).toEqual([true, true, true])
    expect(env['tsgix.signal']).toBeInstanceOf(AbortSignal)
    expect(env['tsgix.cleanup.handlers']).toEqual([])
  })

  it('gives the request body as tsgi.input, and an empty one without a body', async () => {
    const read = async (env: Env) => {
      const parts: Uint8Array[] = []
      for await (const c of env['tsgi.input']) parts.push(c)
      return Buffer.concat(parts).toString()
    }
    const echo: App = async (env) => [200, [], [await read(env)]]
    expect(
      await (await call(echo, 'http://localhost/', { method: 'POST', body: 'hello' })).response.text(),
    ).toBe('hello')
    expect(await (await call(echo)).response.text()).toBe('')
  })
})

describe('decodePath', () => {
  it.each([
    ['/a%2Fb', '/a/b'],
    ['/%252F', '/%2F'],
    ['/100%', undefined],
    ['/%zz%4', undefined],
    ['/%FF', undefined],
    ['/é%20x', '/é x'],
  ])('%s → %s', (raw, decoded) => {
    expect(decodePath(raw)).toBe(decoded)
  })

  it('inverts encodeURIComponent and never throws', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => decodePath(encodeURIComponent(s)) === s))
    fc.assert(
      fc.property(fc.string(), (s) => decodePath(s) === undefined || typeof decodePath(s) === 'string'),
    )
  })

  it.each(['/100%', '/%zz', '/%FF%FE'])('answers 400 for %s without calling the app', async (path) => {
    let called = false
    const handler = toFetchHandler(() => {
      called = true
      return [200, [], ['x']]
    })
    const res = await handler(new globalThis.Request(`http://localhost${path}`))
    expect(res.status).toBe(400)
    expect(called).toBe(false)
  })
})

describe('bodies', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsgi-fetch-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('sends an array body as bytes with a Content-Length', async () => {
    const { response } = await call(() => [200, ['Content-Type', 'text/plain'], ['Hé', new Uint8Array([33])]])
    expect(response.headers.get('content-length')).toBe('4')
    expect(await response.text()).toBe('Hé!')
  })

  it('drops Transfer-Encoding and, beside it, Content-Length: the runtime streams (spec 5.2)', async () => {
    const { response } = await call(() => [
      200,
      ['Content-Length', '2', 'Transfer-Encoding', 'chunked'],
      ['ok'],
    ])
    expect(response.headers.get('content-length')).toBeNull()
    expect(response.headers.get('transfer-encoding')).toBeNull()
    expect(await response.text()).toBe('ok')
  })

  it('keeps an app Content-Length that matches the body', async () => {
    const { response } = await call(() => [200, ['Content-Length', '2'], ['ok']])
    expect(response.headers.get('content-length')).toBe('2')
  })

  it.each([['abc'], ['1 2'], ['-1'], ['2, 3']])(
    'refuses a Content-Length of %j with a 500',
    async (value) => {
      const { response, errors } = await call(() => [200, ['Content-Length', value], ['ok']])
      expect(response.status).toBe(500)
      expect(errors()).toMatch(/Content-Length/)
    },
  )

  it('streams a file body, whole and in a range', async () => {
    const path = join(dir, 'f.txt')
    await writeFile(path, '0123456789')
    expect(await (await call(() => [200, [], fileBody(path)])).response.text()).toBe('0123456789')
    expect(await (await call(() => [200, [], fileBody(path, { start: 2, end: 4 })])).response.text()).toBe(
      '234',
    )
  })

  it('pulls one chunk of an iterable per read (the first one before the head)', async () => {
    let produced = 0
    async function* body() {
      for (;;) {
        produced++
        yield `chunk${produced}`
      }
    }
    const { response } = await call(() => [200, [], body()])
    // The head waits for the first chunk, so a body that fails at once still gets a clean 500.
    expect(produced).toBe(1)
    const reader = response.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('chunk1')
    await turn()
    expect(produced).toBe(1)
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('chunk2')
    await turn()
    expect(produced).toBe(2)
    await reader.cancel()
  })

  it('runs the iterator finally blocks and aborts the signal on cancel', async () => {
    let finished = false
    let env: Env | undefined
    async function* body() {
      try {
        yield 'a'
        yield 'b'
      } finally {
        finished = true
      }
    }
    const { response } = await call(capture((e) => (env = e), body))
    const reader = response.body!.getReader()
    await reader.read()
    await reader.cancel()
    expect(finished).toBe(true)
    expect(env?.['tsgix.signal']?.reason).toBe('client-disconnected')
  })

  it('stops the body when the client signal aborts', async () => {
    const client = new AbortController()
    let finished = false
    async function* body() {
      try {
        yield 'a'
        await new Promise(() => {})
      } finally {
        finished = true
      }
    }
    let env: Env | undefined
    const { response } = await call(
      capture((e) => (env = e), body),
      undefined,
      undefined,
      {
        signal: client.signal,
      },
    )
    const reader = response.body!.getReader()
    await reader.read()
    client.abort()
    await expect(reader.read()).rejects.toThrow(/client-disconnected/)
    expect(finished).toBe(true)
    expect(env?.['tsgix.signal']?.aborted).toBe(true)
  })

  it('does not read the body when the client left before the app answered', async () => {
    const client = new AbortController()
    const calls: string[] = []
    const body: AsyncIterable<string> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          calls.push('next')
          return { done: true, value: undefined }
        },
        return: async () => {
          calls.push('return')
          return { done: true, value: undefined }
        },
      }),
    }
    let env: Env | undefined
    const { response } = await call(
      (e) => {
        env = e
        client.abort()
        return [200, [], body]
      },
      undefined,
      undefined,
      { signal: client.signal },
    )
    await expect(response.text()).rejects.toThrow(/client-disconnected/)
    expect(env?.['tsgix.signal']?.reason).toBe('client-disconnected')
    expect(calls).toEqual(['return'])
  })

  it('gives a writer whose write waits for the reader', async () => {
    let writer: Writer | undefined
    const { response } = await call(() => (respond) => {
      writer = respond([200, ['Content-Type', 'text/plain']])
    })
    let resolved = false
    const written = writer!.write('first').then(() => {
      resolved = true
    })
    await turn()
    expect(resolved).toBe(false)
    const reader = response.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first')
    await written
    expect(resolved).toBe(true)
    await writer!.close()
    expect((await reader.read()).done).toBe(true)
  })

  it('rejects writes after the client went away', async () => {
    let writer: Writer | undefined
    const { response } = await call(() => (respond) => {
      writer = respond([200, []])
    })
    await response.body!.cancel()
    await expect(writer!.write('x')).rejects.toThrow(/client-disconnected/)
  })

  it('errors the stream when the delayed app fails after responding', async () => {
    let env: Env | undefined
    const { response, errors } = await call((e) => async (respond) => {
      env = e
      const writer = respond([200, []])
      await writer.write('partial').catch(() => {})
      throw new Error('late failure')
    })
    await expect(response.text()).rejects.toThrow()
    expect(errors()).toMatch(/late failure/)
    expect(env?.['tsgix.signal']?.reason).toBe('server-error')
  })
})

describe('no body', () => {
  it.each([
    ['HEAD', 200],
    ['GET', 204],
    ['GET', 304],
  ])('%s with status %i: null body and the iterable is not read', async (method, status) => {
    let started = false
    let returned = false
    const body: AsyncIterable<string> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          started = true
          return { done: true, value: undefined }
        },
        return: async () => {
          returned = true
          return { done: true, value: undefined }
        },
      }),
    }
    const { response } = await call(() => [status, ['X-A', '1'], body], 'http://localhost/', { method })
    expect(response.status).toBe(status)
    expect(response.body).toBeNull()
    expect(response.headers.get('x-a')).toBe('1')
    expect([started, returned]).toEqual([false, true])
  })

  it('gives HEAD the Content-Length of the array body', async () => {
    const { response } = await call(() => [200, [], ['Hello']], 'http://localhost/', { method: 'HEAD' })
    expect(response.body).toBeNull()
    expect(response.headers.get('content-length')).toBe('5')
  })

  it('drops writes for a 204 streaming response', async () => {
    const { response } = await call(() => async (respond) => {
      const writer = respond([204, []])
      await writer.write('ignored')
      await writer.close()
    })
    expect(response.status).toBe(204)
    expect(response.body).toBeNull()
  })
})

describe('validation and failures', () => {
  it.each([
    [[200, ['X-Bad', 'a\r\nb'], ['secret']], /X-Bad/],
    [[200, ['Bad Name', 'v'], ['secret']], /Bad Name/],
    [[200, ['X-Odd'], ['secret']], /odd length/],
    [[42, [], ['secret']], /42/],
    [[101, [], []], /101/],
    [[200, [], 'not a body'], /invalid body/],
    [[200, [], [1]], /element at index 0/],
    [[200, ['X-Euro', '€'], ['secret']], /X-Euro/],
  ])('%j → 500 naming the problem', async (triple, message) => {
    const { response, errors } = await call(() => triple as never)
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('Internal Server Error')
    expect(errors()).toMatch(message)
  })

  it('refuses a bad streaming head and rejects its writes', async () => {
    let write: Promise<void> | undefined
    const { response, errors } = await call(() => (respond) => {
      write = respond([200, ['X-Bad', '\n']]).write('x')
    })
    expect(response.status).toBe(500)
    await expect(write).rejects.toThrow(/X-Bad/)
    expect(errors()).toMatch(/X-Bad/)
  })

  it('answers 500 with the stack on tsgi.errors when the app throws', async () => {
    const { response, errors } = await call(() => {
      throw new Error('boom')
    })
    expect(response.status).toBe(500)
    expect(errors()).toMatch(/boom[\s\S]*at /)
  })

  it('answers an HttpError with its status and headers', async () => {
    const { response, errors } = await call(async () => {
      throw new HttpError(302, undefined, { headers: ['Location', '/login'] })
    })
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('/login')
    expect(errors()).toBe('')
  })

  it('answers 500 when the delayed app throws before responding', async () => {
    const { response, errors } = await call(() => () => {
      throw new Error('early')
    })
    expect(response.status).toBe(500)
    expect(errors()).toMatch(/early/)
  })

  it('uses a valid reason phrase as statusText', async () => {
    const { response } = await call((env) => {
      env['tsgix.reason_phrase'] = 'Pretty Good'
      return [200, [], []]
    })
    expect(response.statusText).toBe('Pretty Good')
  })

  it('answers 500 naming tsgix.reason_phrase when it is not a valid phrase', async () => {
    const { response, errors } = await call((env) => {
      env['tsgix.reason_phrase'] = 'bad\r\n'
      return [200, ['X-App', '1'], []]
    })
    expect(response.status).toBe(500)
    expect(response.headers.get('x-app')).toBeNull()
    expect(errors()).toMatch(/tsgix\.reason_phrase/)
  })

  it('throws a TypeError for bad options', () => {
    expect(() => toFetchHandler('x' as never)).toThrow(/toFetchHandler: app/)
    expect(() => toFetchHandler(() => [200, [], []], { errors: {} as never })).toThrow(/option errors/)
  })
})

describe('cleanup', () => {
  it('runs cleanup handlers through waitUntil, logging their errors, with the signal not aborted', async () => {
    const waits: Promise<unknown>[] = []
    const seen: unknown[] = []
    const { response, errors } = await call(
      (env) => {
        env['tsgix.cleanup.handlers']?.push((e) => void seen.push(e['tsgix.signal']?.aborted))
        env['tsgix.cleanup.handlers']?.push(() => {
          throw new Error('cleanup broke')
        })
        return [200, [], ['ok']]
      },
      undefined,
      undefined,
      { waitUntil: (p) => void waits.push(p) },
    )
    expect(await response.text()).toBe('ok')
    await Promise.all(waits)
    expect(seen).toEqual([false])
    expect(errors()).toMatch(/cleanup broke/)
  })

  it('runs them after a streamed body completes', async () => {
    const waits: Promise<unknown>[] = []
    let ran = 0
    async function* body() {
      yield 'a'
    }
    const { response } = await call(
      (env) => {
        env['tsgix.cleanup.handlers']?.push(() => void ran++)
        return [200, [], body()]
      },
      undefined,
      undefined,
      { waitUntil: (p) => void waits.push(p) },
    )
    expect(waits).toHaveLength(0)
    expect(await response.text()).toBe('a')
    await Promise.all(waits)
    expect(ran).toBe(1)
  })
})
