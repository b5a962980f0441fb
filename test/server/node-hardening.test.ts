/**
 * The node server attacked from outside: request smuggling, pipelining past a malformed
 * request, slow heads and bodies, connection floods and header floods. Every case runs over
 * real sockets; timeouts are set small and waited on as events, never slept through.
 */
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { type ServeOptions, serve } from '../../src/server/node.js'
import type { App } from '../../src/types.js'
import { deferred, raw, rawConnect, readUntil, start } from './node-helpers.js'

const hello: App = (env) => [200, ['Content-Type', 'text/plain'], [`hello ${env.PATH_INFO}`]]

/** An app that counts its calls. */
function counting(app: App = hello): { app: App; calls: () => number } {
  let n = 0
  return {
    app: (env) => {
      n++
      return app(env)
    },
    calls: () => n,
  }
}

/** The status codes of every response in `text`, in wire order. */
function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
}

/** Resolves when `socket` has closed (at once if it already has). */
function closed(socket: Socket): Promise<unknown> {
  return socket.closed ? Promise.resolve() : once(socket, 'close')
}

/** Records everything `socket` receives until it closes. */
function collect(socket: Socket): Promise<string> {
  const parts: Buffer[] = []
  socket.on('data', (d: Buffer) => parts.push(d))
  return closed(socket).then(() => Buffer.concat(parts).toString('latin1'))
}

describe('request smuggling', () => {
  it.each([
    ['without', ''],
    ['with', 'Connection: keep-alive\r\n'],
  ])(
    'refuses an HTTP/1.0 request with Transfer-Encoding (%s keep-alive) and what was pipelined after it',
    async (_label, keepAlive) => {
      const { app, calls } = counting()
      const { port } = await start(app)
      const text = await raw(
        port,
        `POST /first HTTP/1.0\r\nHost: h\r\n${keepAlive}Transfer-Encoding: chunked\r\n\r\n` +
          '5\r\nhello\r\n0\r\n\r\n' +
          'GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n',
      )
      expect(statuses(text)).toEqual([400])
      expect(text).toMatch(/\r\nConnection: close\r\n/i)
      expect(text).not.toMatch(/smuggled/)
      expect(calls()).toBe(0)
    },
  )

  it('refuses Transfer-Encoding on HTTP/1.0 whatever its case and even without a body', async () => {
    const { app, calls } = counting()
    const { port } = await start(app)
    const text = await raw(port, 'GET / HTTP/1.0\r\ntransfer-ENCODING: identity\r\n\r\n')
    expect(statuses(text)).toEqual([400])
    expect(calls()).toBe(0)
  })

  it.each([
    ['Content-Length with Transfer-Encoding', 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n'],
    ['a transfer coding other than chunked last', 'Transfer-Encoding: chunked, identity\r\n'],
    ['an unknown transfer coding', 'Transfer-Encoding: xchunked\r\n'],
    ['a transfer coding without chunked', 'Transfer-Encoding: gzip\r\n'],
    [
      'chunked in a first Transfer-Encoding line only',
      'Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n',
    ],
    ['whitespace before the colon', 'Transfer-Encoding : chunked\r\n'],
    ['a folded Transfer-Encoding', 'Transfer-Encoding: identity\r\n chunked\r\n'],
  ])('an HTTP/1.1 request with %s gets 400 and reaches no app', async (_name, framing) => {
    const { app, calls } = counting()
    const { port } = await start(app)
    const text = await raw(
      port,
      `POST / HTTP/1.1\r\nHost: h\r\n${framing}\r\n5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n`,
    )
    expect(statuses(text)).toEqual([400])
    expect(calls()).toBe(0)
  })
})

describe('a malformed request pipelined behind a valid one', () => {
  const garbage = 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'

  it('waits for a slow answer to the valid request before its 400', async () => {
    const release = deferred()
    const called = deferred()
    const { port } = await start(async (env) => {
      called.resolve()
      await release.promise
      return [200, ['Content-Type', 'text/plain'], [`answer ${env.PATH_INFO}`]]
    })
    const socket = await rawConnect(port)
    const text = collect(socket)
    socket.write(`GET /good HTTP/1.1\r\nHost: h\r\n\r\n${garbage}`)
    // node has parsed the garbage with the valid head (one write): the 400 must still wait
    await called.promise
    release.resolve()
    const wire = await text
    expect(statuses(wire)).toEqual([200, 400])
    expect(wire.indexOf('answer /good')).toBeLessThan(wire.indexOf('HTTP/1.1 400'))
    expect(wire).toMatch(/answer \/good/)
    expect(wire).toMatch(/HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Connection: close\r\n/)
  })

  it('sends an immediate answer whole, then the 400', async () => {
    const { port } = await start((env) => [200, [], [`answer ${env.PATH_INFO}`]])
    const wire = await raw(port, `GET /good HTTP/1.1\r\nHost: h\r\n\r\n${garbage}`)
    expect(statuses(wire)).toEqual([200, 400])
    expect(wire).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nanswer \/goodHTTP\/1\.1 400 /)
  })

  it('answers every valid request before the malformed one, in order', async () => {
    const gates = [deferred(), deferred()]
    const { port } = await start(async (env) => {
      const i = Number(env.PATH_INFO.slice(1))
      await gates[i]!.promise
      return [200, [], [`answer ${i}`]]
    })
    const socket = await rawConnect(port)
    const text = collect(socket)
    socket.write(`GET /0 HTTP/1.1\r\nHost: h\r\n\r\nGET /1 HTTP/1.1\r\nHost: h\r\n\r\n${garbage}`)
    gates[1]!.resolve()
    gates[0]!.resolve()
    const wire = await text
    expect(statuses(wire)).toEqual([200, 200, 400])
    expect(wire.indexOf('answer 0')).toBeLessThan(wire.indexOf('answer 1'))
  })

  it('a streamed answer is not cut by the 400 that follows it', async () => {
    const release = deferred()
    const { port } = await start(() => async (respond) => {
      const w = respond([200, ['Content-Type', 'text/plain']])
      await w.write('part 1, ')
      await release.promise
      await w.write('part 2')
      await w.close()
    })
    const socket = await rawConnect(port)
    const text = collect(socket)
    socket.write(`GET / HTTP/1.1\r\nHost: h\r\n\r\n${garbage}`)
    await readUntil(socket, /part 1, /)
    release.resolve()
    const wire = await text
    expect(wire).toMatch(/part 1, [\s\S]*part 2[\s\S]*\r\n0\r\n\r\nHTTP\/1\.1 400 /)
  })

  it('a body that breaks its chunked framing gets 400, and the app reading it fails', async () => {
    const failure = deferred<unknown>()
    const { port } = await start(async (env) => {
      try {
        for await (const _ of env['tsgi.input']) {
          // keep reading
        }
      } catch (err) {
        failure.resolve(err)
      }
      return [200, [], ['read it all']]
    })
    const wire = await raw(
      port,
      'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n',
    )
    expect(statuses(wire)).toEqual([400])
    expect(wire).not.toMatch(/read it all/)
    expect(await failure.promise).toBeInstanceOf(Error)
  })

  it('a broken body behind a slow answer: the answer, then 400, then the read fails', async () => {
    const release = deferred()
    const reading = deferred()
    const failure = deferred<unknown>()
    const { port } = await start(async (env) => {
      if (env.PATH_INFO === '/slow') {
        await release.promise
        return [200, [], ['slow answer']]
      }
      reading.resolve()
      try {
        for await (const _ of env['tsgi.input']) {
          // keep reading
        }
      } catch (err) {
        failure.resolve(err)
      }
      return [200, [], ['read it all']]
    })
    const socket = await rawConnect(port)
    const text = collect(socket)
    socket.write(
      'GET /slow HTTP/1.1\r\nHost: h\r\n\r\n' +
        'POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n',
    )
    await reading.promise
    release.resolve()
    const wire = await text
    expect(statuses(wire)).toEqual([200, 400])
    expect(wire).toMatch(/slow answer[\s\S]*HTTP\/1\.1 400 /)
    expect(wire).not.toMatch(/read it all/)
    expect(await failure.promise).toBeInstanceOf(Error)
  })

  it('no answer follows a response that closed the connection', async () => {
    const { port } = await start(hello)
    const wire = await raw(port, `GET /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n${garbage}`)
    expect(statuses(wire)).toEqual([200])
    expect(wire).toMatch(/hello \/last$/)
  })
})

describe('headersTimeout', () => {
  it('answers a slow head with 408 on time and closes', async () => {
    const { app, calls } = counting()
    const { port } = await start(app, { headersTimeout: 300 })
    const socket = await rawConnect(port)
    const text = collect(socket)
    const started = Date.now()
    socket.write('GET / HTTP/1.1\r\nHost: h\r\n')
    // a slow loris: a header line now and then, never the end of the head
    const drip = setInterval(() => socket.writable && socket.write('X-Drip: 1\r\n'), 50)
    try {
      const wire = await text
      expect(statuses(wire)).toEqual([408])
      expect(wire).toMatch(/Connection: close\r\n/)
      // node alone checks every 30 s; a generous bound, not a timing assertion
      expect(Date.now() - started).toBeLessThan(5000)
    } finally {
      clearInterval(drip)
    }
    expect(calls()).toBe(0)
  })

  it('closes a connection that sends nothing with 408', async () => {
    const { port } = await start(hello, { headersTimeout: 200 })
    const socket = await rawConnect(port)
    expect(statuses(await collect(socket))).toEqual([408])
  })

  it('does not limit a keep-alive connection waiting for its next request', async () => {
    const { port } = await start(hello, { headersTimeout: 100, keepAliveTimeout: 10_000 })
    const socket = await rawConnect(port)
    socket.write('GET /1 HTTP/1.1\r\nHost: h\r\n\r\n')
    await readUntil(socket, /hello \/1$/)
    // a second connection as the clock: once its head timed out, the first one's would have too
    const clock = await rawConnect(port)
    expect(statuses(await collect(clock))).toEqual([408])
    socket.write('GET /2 HTTP/1.1\r\nHost: h\r\n\r\n')
    expect(await readUntil(socket, /hello \/2$/)).toMatch(/^HTTP\/1\.1 200 /)
    socket.destroy()
  })
})

describe('bodyTimeout', () => {
  const post = (length: number) => `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${length}\r\n\r\n`

  it('answers 408 when the body stalls while the app reads it, and the read fails', async () => {
    const failure = deferred<unknown>()
    const { port } = await start(
      async (env) => {
        try {
          for await (const _ of env['tsgi.input']) {
            // keep reading
          }
        } catch (err) {
          failure.resolve(err)
        }
        return [200, [], ['read it all']]
      },
      { bodyTimeout: 200 },
    )
    const socket = await rawConnect(port)
    const text = collect(socket)
    socket.write(`${post(10)}12345`)
    const wire = await text
    expect(statuses(wire)).toEqual([408])
    expect(wire).toMatch(/Connection: close\r\n/)
    const err = (await failure.promise) as { code?: string }
    expect(err).toBeInstanceOf(Error)
    expect(err.code).toBe('ERR_HTTP_REQUEST_TIMEOUT')
  })

  it('destroys the connection when the response head is already out; the signal says timeout', async () => {
    const failure = deferred<unknown>()
    const reason = deferred<unknown>()
    const { port } = await start(
      (env) => async (respond) => {
        env['tsgix.cleanup.handlers']?.push((e) => reason.resolve(e['tsgix.signal']?.reason))
        const w = respond([200, ['Content-Type', 'text/plain']])
        await w.write('started')
        try {
          for await (const _ of env['tsgi.input']) {
            // keep reading
          }
        } catch (err) {
          failure.resolve(err)
        }
      },
      { bodyTimeout: 200 },
    )
    const socket = await rawConnect(port)
    const text = collect(socket)
    socket.write(`${post(10)}12345`)
    const wire = await text
    expect(statuses(wire)).toEqual([200])
    expect(wire).toMatch(/started/)
    expect(wire).not.toMatch(/\r\n0\r\n\r\n$/) // never a complete-looking response
    expect(await failure.promise).toBeInstanceOf(Error)
    expect(await reason.promise).toBe('timeout')
  })

  it('does not fire while the app is not reading (its own backpressure)', async () => {
    const { port } = await start(
      async (env) => {
        const input = env['tsgi.input']
        if (env.PATH_INFO === '/clock') {
          // reads and stalls: times out after bodyTimeout
          for await (const _ of input) {
            // keep reading
          }
          return [200, [], ['never']]
        }
        const it = input[Symbol.asyncIterator]()
        let bytes = ((await it.next()).value as Buffer).length
        await clockDone.promise // longer than bodyTimeout, with the client's bytes waiting
        for (let r = await it.next(); !r.done; r = await it.next()) bytes += (r.value as Buffer).length
        return [200, [], [`read ${bytes}`]]
      },
      { bodyTimeout: 200 },
    )
    const clockDone = deferred()
    const size = 4 * 1024 * 1024
    const socket = await rawConnect(port)
    const answer = readUntil(socket, /read \d+$/)
    socket.write(post(size))
    socket.write(Buffer.alloc(size, 97))
    // the clock: a second request whose body stalls, answered 408 once bodyTimeout passed
    const clock = await rawConnect(port)
    const clockText = collect(clock)
    clock.write('POST /clock HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345')
    expect(statuses(await clockText)).toEqual([408])
    clockDone.resolve()
    expect(await answer).toMatch(new RegExp(`^HTTP/1\\.1 200 [\\s\\S]*read ${size}$`))
    socket.destroy()
  })

  it('does not fire while the app has not begun to read', async () => {
    const clockDone = deferred()
    const { port } = await start(
      async (env) => {
        if (env.PATH_INFO === '/clock') {
          for await (const _ of env['tsgi.input']) {
            // keep reading
          }
          return [200, [], ['never']]
        }
        await clockDone.promise
        let bytes = 0
        for await (const chunk of env['tsgi.input']) bytes += (chunk as Buffer).length
        return [200, [], [`read ${bytes}`]]
      },
      { bodyTimeout: 200 },
    )
    const socket = await rawConnect(port)
    const answer = readUntil(socket, /read \d+$/)
    socket.write(`${post(10)}12345`)
    const clock = await rawConnect(port)
    const clockText = collect(clock)
    clock.write('POST /clock HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345')
    expect(statuses(await clockText)).toEqual([408])
    clockDone.resolve()
    socket.write('67890')
    expect(await answer).toMatch(/read 10$/)
    socket.destroy()
  })

  it('lets a body that keeps coming take longer than bodyTimeout in all', async () => {
    let arrived = deferred()
    const { port } = await start(
      async (env) => {
        let bytes = 0
        for await (const chunk of env['tsgi.input']) {
          bytes += (chunk as Buffer).length
          arrived.resolve()
        }
        return [200, [], [`read ${bytes}`]]
      },
      { bodyTimeout: 100 },
    )
    const socket = await rawConnect(port)
    socket.write('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n')
    // one byte at a time, each sent once the app has read the one before, for several bodyTimeouts
    const started = Date.now()
    let sent = 0
    while (Date.now() - started < 400) {
      arrived = deferred()
      socket.write('1\r\nx\r\n')
      sent++
      await arrived.promise
    }
    socket.write('0\r\n\r\n')
    expect(await readUntil(socket, /read \d+$/)).toMatch(new RegExp(`^HTTP/1\\.1 200 [\\s\\S]*read ${sent}$`))
    socket.destroy()
  })
})

describe('keepAliveTimeout', () => {
  it('closes an idle keep-alive connection after it', async () => {
    const { port } = await start(hello, { keepAliveTimeout: 100 })
    const socket = await rawConnect(port)
    const text = collect(socket)
    socket.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n')
    const wire = await text
    expect(statuses(wire)).toEqual([200])
    expect(wire).not.toMatch(/Connection: close/i)
  })
})

describe('maxConnections', () => {
  it('answers connections over the cap 503 and closes them; the others go on', async () => {
    const { app, calls } = counting()
    const { port, server } = await start(app, { maxConnections: 2 })
    const firstOnServer = once(server.server, 'connection') as Promise<[Socket]>
    const first = await rawConnect(port)
    const [firstServerSide] = await firstOnServer
    const second = await rawConnect(port)
    first.write('GET /a HTTP/1.1\r\nHost: h\r\n\r\n')
    second.write('GET /b HTTP/1.1\r\nHost: h\r\n\r\n')
    await Promise.all([readUntil(first, /hello \/a$/), readUntil(second, /hello \/b$/)])

    const excess = await raw(port, 'GET /c HTTP/1.1\r\nHost: h\r\n\r\nGET /d HTTP/1.1\r\nHost: h\r\n\r\n')
    expect(statuses(excess)).toEqual([503])
    expect(excess).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/)
    expect(excess).toMatch(/\r\nConnection: close\r\n/i)
    expect(calls()).toBe(2)

    // the connections being served are unaffected
    second.write('GET /again HTTP/1.1\r\nHost: h\r\n\r\n')
    expect(await readUntil(second, /hello \/again$/)).toMatch(/^HTTP\/1\.1 200 /)

    // once one has closed (on the server's side too), a new connection is served
    first.destroy()
    await closed(firstServerSide)
    expect(await raw(port, 'GET /e HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n')).toMatch(/hello \/e$/)
    expect(calls()).toBe(4)
    second.destroy()
  })

  it('has no cap by default', async () => {
    const { port } = await start(hello)
    const sockets = await Promise.all(Array.from({ length: 50 }, () => rawConnect(port)))
    const answers = sockets.map((s) => readUntil(s, /hello \/$/))
    for (const s of sockets) s.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n')
    expect(await Promise.all(answers)).toHaveLength(50)
    for (const s of sockets) s.destroy()
  })
})

describe('header limits', () => {
  /** A request head with exactly `n` header fields, the last one `Connection: close`. */
  const head = (n: number) =>
    `GET / HTTP/1.1\r\nHost: h\r\n${Array.from({ length: n - 2 }, (_, i) => `X-H${i}: v\r\n`).join('')}Connection: close\r\n\r\n`

  it('serves maxHeaders fields, and answers one more with 431 and a close, without calling the app', async () => {
    const { app, calls } = counting()
    const { port } = await start(app, { maxHeaders: 10 })
    expect(statuses(await raw(port, head(10)))).toEqual([200])
    const text = await raw(
      port,
      `${head(11).replace('Connection: close', 'X-Last: 1')}GET /next HTTP/1.1\r\nHost: h\r\n\r\n`,
    )
    expect(statuses(text)).toEqual([431])
    expect(text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
    expect(text).toMatch(/Connection: close\r\n/)
    expect(calls()).toBe(1)
  })

  it('counts 100 fields by default', async () => {
    const { app, calls } = counting()
    const { port } = await start(app)
    expect(statuses(await raw(port, head(100)))).toEqual([200])
    expect(statuses(await raw(port, head(101)))).toEqual([431])
    expect(calls()).toBe(1)
  })

  it('answers a head over maxHeaderSize with 431', async () => {
    const { port } = await start(hello, { maxHeaderSize: 1024 })
    expect(
      statuses(await raw(port, `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`)),
    ).toEqual([431])
  })

  it('refuses a CONNECT over the limits too', async () => {
    const { app, calls } = counting()
    const { port } = await start(app, { maxHeaders: 2 })
    const text = await raw(port, 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nX-A: 1\r\nX-B: 2\r\n\r\n')
    expect(statuses(text)).toEqual([431])
    expect(calls()).toBe(0)
  })
})

describe('options', () => {
  it.each<[string, ServeOptions, RegExp]>([
    ['bodyTimeout negative', { bodyTimeout: -1 }, /serve: option 'bodyTimeout'/],
    ['bodyTimeout beyond a timer', { bodyTimeout: 2 ** 31 }, /serve: option 'bodyTimeout'/],
    ['headersTimeout fractional', { headersTimeout: 1.5 }, /serve: option 'headersTimeout'/],
    ['keepAliveTimeout NaN', { keepAliveTimeout: Number.NaN }, /serve: option 'keepAliveTimeout'/],
    ['maxConnections fractional', { maxConnections: 2.5 }, /serve: option 'maxConnections'/],
    ['maxConnections negative', { maxConnections: -1 }, /serve: option 'maxConnections'/],
    ['maxHeaders a string', { maxHeaders: '100' as never }, /serve: option 'maxHeaders'/],
    ['maxHeaders negative', { maxHeaders: -1 }, /serve: option 'maxHeaders'/],
  ])('%s throws a TypeError naming it', (_name, options, message) => {
    expect(() => serve(hello, options)).toThrow(TypeError)
    expect(() => serve(hello, options)).toThrow(message)
  })
})
