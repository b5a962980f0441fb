import { describe, expect, it } from 'vitest'
import type { App, Env, HeaderList } from '../../src/types.js'
import { deferred, raw, rawConnect, rawExchange, start } from './node-helpers.js'

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: h\r\n${extra}\r\n`
const last = (path: string) => get(path, 'Connection: close\r\n')

/** The responses in a raw exchange, split on status lines (bodies here hold no 'HTTP/1.1 '). */
function responses(text: string): string[] {
  return text.split(/(?=HTTP\/1\.1 \d{3} )/).filter((r) => r !== '')
}

async function* chunks(...parts: string[]): AsyncGenerator<string> {
  for (const part of parts) {
    await Promise.resolve()
    yield part
  }
}

describe('HTTP/1.1 pipelining', () => {
  const app: App = (env) => {
    const p = env.PATH_INFO
    if (p === '/stream') return [200, ['Content-Type', 'text/plain'], chunks('str', 'eam')]
    if (p === '/delayed')
      return async (respond) => {
        await new Promise((r) => setImmediate(r))
        respond([200, ['Content-Type', 'text/plain'], ['delayed']])
      }
    if (p === '/writer')
      return async (respond) => {
        const writer = respond([200, ['Content-Type', 'text/plain']])
        await writer.write('wri')
        await writer.write('ter')
        await writer.close()
      }
    return [200, ['Content-Type', 'text/plain'], [`plain ${p}`]]
  }

  it('answers requests sent in one write in order, each body whole', async () => {
    const { port } = await start(app)
    const text = await raw(port, get('/stream') + get('/a') + get('/delayed') + get('/writer') + last('/b'))
    const out = responses(text)
    expect(out).toHaveLength(5)
    expect(out[0]).toMatch(/\r\n\r\n3\r\nstr\r\n3\r\neam\r\n0\r\n\r\n$/)
    expect(out[1]).toMatch(/\r\n\r\nplain \/a$/)
    expect(out[2]).toMatch(/\r\n\r\ndelayed$/)
    expect(out[3]).toMatch(/\r\n\r\n3\r\nwri\r\n3\r\nter\r\n0\r\n\r\n$/)
    expect(out[4]).toMatch(/\r\n\r\nplain \/b$/)
  })
})

describe('Content-Length from the app', () => {
  const app: App = (env) => {
    const headers = ['Content-Type', 'text/plain', 'Content-Length', '5']
    if (env.PATH_INFO === '/stream') return [200, headers, chunks('abc', 'defgh')]
    if (env.PATH_INFO === '/both')
      return [200, [...headers, 'Transfer-Encoding', 'chunked'], chunks('abc', 'defgh')]
    return [200, headers, ['abcdefgh']]
  }

  it('an array body longer than it: a 500, none of its bytes on the wire', async () => {
    const { port, errors } = await start(app)
    const text = await raw(port, get('/array') + last('/next'))
    const out = responses(text)
    expect(out[0]).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/)
    expect(text).not.toMatch(/abc/)
    expect(out[1]).toMatch(/^HTTP\/1\.1 500 /)
    expect(errors.text).toMatch(/Content-Length 5/)
  })

  it('a streamed body longer than it: cut after the bytes that fit, the excess never sent', async () => {
    const { port, errors } = await start(app)
    const text = await raw(port, get('/stream') + last('/next'))
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Content-Length: 5\r\n[\s\S]*\r\n\r\nabc$/)
    expect(errors.text).toMatch(/longer than its Content-Length 5/)
  })

  it('beside Transfer-Encoding: chunked framing and no Content-Length on the wire', async () => {
    const { port } = await start(app)
    const text = await raw(port, last('/both'))
    expect(text).toMatch(/\r\nTransfer-Encoding: chunked\r\n/)
    expect(text).not.toMatch(/Content-Length/i)
    expect(text).toMatch(/\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n$/)
  })
})

describe('header values on the wire', () => {
  const obs = (env: Env, headers: HeaderList): ReturnType<App> => {
    env['tsgix.reason_phrase'] = 'Caf\u00e9'
    if (env.PATH_INFO === '/writer')
      return async (respond) => {
        const writer = respond([200, headers])
        await writer.write('ok')
        await writer.close()
      }
    if (env.PATH_INFO === '/length') return [200, [...headers, 'Content-Length', '2'], chunks('ok')]
    if (env.PATH_INFO === '/head') return [200, headers, ['ok']]
    return [200, headers, ['ok']]
  }

  it.each(['/array', '/writer', '/length', '/head'])(
    'obs-text in a value and the reason phrase is one octet each (%s)',
    async (path) => {
      const { port } = await start((env) => obs(env, ['X-Obs', 'caf\u00e9']))
      const method = path === '/head' ? 'HEAD' : 'GET'
      const text = await raw(port, `${method} ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`)
      // raw() decodes as latin1: one octet 0xE9 reads back as U+00E9; UTF-8 would read as 'Ã©'
      expect(text).toMatch(/^HTTP\/1\.1 200 Caf\u00e9\r\n/)
      expect(text).toMatch(/\r\nX-Obs: caf\u00e9\r\n/)
    },
  )

  it.each([
    ['a character above U+00FF', 'snow \u2603'],
    ['a control character', 'a\u0001b'],
    ['DEL', 'a\u007fb'],
  ])('%s: a 500 with its own status line, the server and connection keep working', async (_name, value) => {
    const app: App = (env) => {
      if (env.PATH_INFO === '/writer') return (respond) => void respond([204, ['X-Bad', value]]).close()
      if (env.PATH_INFO === '/stream') return [200, ['X-Bad', value], chunks('never sent')]
      return env.PATH_INFO === '/ok' ? [200, [], ['fine']] : [304, ['X-Bad', value], []]
    }
    const { port, errors } = await start(app)
    const text = await raw(port, get('/304') + get('/writer') + get('/stream') + last('/ok'))
    const out = responses(text)
    expect(out).toHaveLength(4)
    for (const r of out.slice(0, 3)) {
      expect(r).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/)
      expect(r).toMatch(/\r\n\r\nInternal Server Error$/)
    }
    expect(out[3]).toMatch(/\r\n\r\nfine$/)
    expect(text).not.toMatch(/X-Bad|never sent/)
    expect(errors.text).toMatch(/X-Bad/)
  })
})

describe('statuses', () => {
  it('a 1xx final status is refused with a 500 and the connection goes on', async () => {
    const { port, errors } = await start((env) =>
      env.PATH_INFO === '/ok' ? [200, [], ['fine']] : [101, ['Upgrade', 'x'], []],
    )
    const out = responses(await raw(port, get('/101') + last('/ok')))
    expect(out[0]).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/)
    expect(out[1]).toMatch(/\r\n\r\nfine$/)
    expect(errors.text).toMatch(/status 101/)
  })
})

describe('request heads', () => {
  it('keeps every header line past node’s default count of 2000 (with no maxHeaders count)', async () => {
    const { port } = await start(
      (env) => [
        200,
        [],
        [String(Object.keys(env).filter((k) => k.startsWith('HTTP_X_H')).length), ` ${env.HTTP_COOKIE}`],
      ],
      { maxHeaders: 0 },
    )
    let head = 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n'
    for (let i = 0; i < 2100; i++) head += `X-H${i}: v\r\n`
    const text = await raw(port, `${head}Cookie: a=1\r\n\r\n`)
    expect(text).toMatch(/\r\n\r\n2100 a=1$/)
  })
})

describe('tsgix.early_hints', () => {
  it.each([
    ['Link', '\u2603'],
    ['X-Hint', 'a\u0001'],
    ['Link', 'not a link'],
  ])('a %s value of %j throws a TypeError naming the field; the response goes on', async (name, value) => {
    const thrown = deferred<unknown>()
    const { port } = await start((env) => {
      try {
        env['tsgix.early_hints']?.([name, value])
      } catch (err) {
        thrown.resolve(err)
      }
      return [200, [], ['ok']]
    })
    const text = await raw(port, last('/'))
    const err = await thrown.promise
    expect(err).toBeInstanceOf(TypeError)
    expect(String(err)).toContain(name)
    expect(text).not.toMatch(/103/)
    expect(text).toMatch(/\r\n\r\nok$/)
  })
})

describe('a request body left partly read', () => {
  it.each(['break', 'hold'])(
    'the response is whole, then the connection is closed instead of stalling (%s)',
    async (how) => {
      const { port } = await start(async (env) => {
        const it = env['tsgi.input'][Symbol.asyncIterator]()
        await it.next()
        if (how === 'break') await it.return?.()
        return [200, [], ['answered']]
      })
      const body = 'x'.repeat(1_000_000)
      const socket = await rawConnect(port)
      const text = await rawExchange(
        socket,
        `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      )
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nanswered$/)
    },
  )
})

describe('a pipelined request behind a response that is cut', () => {
  it('is ended too: its signal aborts, its cleanup handlers run, close() resolves', async () => {
    const cleaned = deferred<unknown>()
    const { port, server } = await start((env) => {
      if (env.PATH_INFO === '/cut') {
        return [
          200,
          [],
          (async function* () {
            yield 'partial'
            await Promise.resolve()
            throw new Error('body failed')
          })(),
        ]
      }
      env['tsgix.cleanup.handlers']?.push((e) => cleaned.resolve(e['tsgix.signal']?.reason))
      return [200, [], ['queued']]
    })
    const text = await raw(port, get('/cut') + last('/queued'))
    expect(text).toMatch(/\r\n\r\n7\r\npartial\r\n$/)
    expect(await cleaned.promise).toBe('client-disconnected')
    await server.close()
  })
})
