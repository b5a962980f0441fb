import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import { describe, expect, it } from 'vitest'
import type { Env, Writer } from '../../src/types.js'
import { deferred, raw, rawConnect, readUntil, start } from './node-helpers.js'

const close = 'Connection: close\r\n\r\n'

describe('tsgix.signal', () => {
  it('aborts with client-disconnected mid-stream and runs the generator finally', async () => {
    const aborted = deferred<unknown>()
    const finalized = deferred()
    const { port } = await start((env) => {
      const signal = env['tsgix.signal'] as AbortSignal
      signal.addEventListener('abort', () => aborted.resolve(signal.reason))
      return [
        200,
        [],
        (async function* () {
          try {
            yield 'first'
            // waits for more data; the abort wakes it, and return() then ends it at the next yield
            await new Promise((resolve) => signal.addEventListener('abort', resolve))
            yield 'never sent'
          } finally {
            finalized.resolve()
          }
        })(),
      ]
    })
    const socket = await rawConnect(port)
    socket.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n')
    await readUntil(socket, /first/)
    socket.destroy()
    expect(await aborted.promise).toBe('client-disconnected')
    await finalized.promise
  })

  it('returns a generator that waits at a yield when the client leaves', async () => {
    const finalized = deferred()
    const { port } = await start(() => [
      200,
      [],
      (async function* () {
        try {
          for (;;) yield 'x'.repeat(64 * 1024)
        } finally {
          finalized.resolve()
        }
      })(),
    ])
    const socket = await rawConnect(port)
    socket.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n')
    await readUntil(socket, /xxxx/)
    socket.destroy()
    await finalized.promise
  })

  it('Writer.write rejects after the client left, naming the reason', async () => {
    const rejected = deferred<unknown>()
    let writer: Writer | undefined
    const ready = deferred()
    const { port } = await start(() => (respond) => {
      writer = respond([200, []])
      ready.resolve()
    })
    const socket = await rawConnect(port)
    socket.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n')
    await ready.promise
    await readUntil(socket, /\r\n\r\n/)
    const w = writer as Writer
    socket.destroy()
    // keep writing until the server notices
    const loop = async () => {
      for (;;) await w.write('tick')
    }
    loop().catch((err: unknown) => rejected.resolve(err))
    expect(String(await rejected.promise)).toMatch(/client-disconnected/)
    // spec 4.4: after the abort, close resolves and does nothing
    await expect(w.close()).resolves.toBeUndefined()
    await expect(w.write('more')).rejects.toThrow(/client-disconnected/)
  })

  it('never aborts after the response completed (checked after finish and in cleanup)', async () => {
    const cleaned = deferred<boolean[]>()
    let seenEnv: Env | undefined
    const { url, server } = await start((env) => {
      seenEnv = env
      env['tsgix.cleanup.handlers']?.push(() => {
        cleaned.resolve([env['tsgix.signal']?.aborted ?? true])
      })
      return [200, [], ['done']]
    })
    const finished = deferred()
    server.server.on('request', (_req, res) => res.once('finish', () => finished.resolve()))
    expect(await (await fetch(url)).text()).toBe('done')
    await finished.promise
    expect(seenEnv?.['tsgix.signal']?.aborted).toBe(false)
    expect(await cleaned.promise).toEqual([false])
    await server.close()
    expect(seenEnv?.['tsgix.signal']?.aborted).toBe(false)
  })

  it('aborts with timeout after requestTimeout and answers 503', async () => {
    const reason = deferred<unknown>()
    const { port } = await start(
      (env) => () => {
        env['tsgix.signal']?.addEventListener('abort', () => reason.resolve(env['tsgix.signal']?.reason))
      },
      { requestTimeout: 20 },
    )
    const text = await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(text).toMatch(/^HTTP\/1\.1 503 /)
    expect(await reason.promise).toBe('timeout')
  })
})

describe('clients that leave mid-upload', () => {
  it('cost at most one short line each on tsgi.errors, never a stack trace', async () => {
    const clients = 200
    let ended = 0
    const allEnded = deferred()
    const { port, errors } = await start(async (env) => {
      env['tsgix.cleanup.handlers']?.push(() => {
        if (++ended === clients) allEnded.resolve()
      })
      let size = 0
      for await (const chunk of env['tsgi.input']) size += chunk.byteLength
      return [200, [], [String(size)]]
    })
    const head = `POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n`
    await Promise.all(
      Array.from({ length: clients }, async () => {
        const socket = await rawConnect(port)
        socket.on('error', () => {})
        await new Promise<void>((done) => socket.write(head + 'x'.repeat(4096), () => done()))
        socket.destroy()
      }),
    )
    await allEnded.promise
    const lines = errors.text.split('\n').filter((l) => l !== '')
    expect(lines.length).toBeLessThanOrEqual(clients)
    expect(errors.text).not.toMatch(/\n\s+at /)
    for (const line of lines) expect(line.length).toBeLessThan(300)
  })
})

describe('tsgix.cleanup.handlers', () => {
  it('run in order, each awaited, after the response; failures go to tsgi.errors', async () => {
    const order: string[] = []
    const done = deferred()
    const { url, errors } = await start((env) => {
      const handlers = env['tsgix.cleanup.handlers'] ?? []
      handlers.push(async () => {
        await new Promise((r) => setImmediate(r))
        order.push('first')
      })
      handlers.push(() => {
        order.push('second')
        throw new Error('cleanup broke')
      })
      handlers.push((e) => {
        order.push(`third ${e.PATH_INFO}`)
        done.resolve()
      })
      order.push('app')
      return [200, [], ['ok']]
    })
    expect(await (await fetch(`${url}/p`)).text()).toBe('ok')
    await done.promise
    expect(order).toEqual(['app', 'first', 'second', 'third /p'])
    expect(errors.text).toMatch(/cleanup handler failed: Error: cleanup broke/)
  })

  it('run when the client went away too', async () => {
    const ran = deferred<unknown>()
    const { port } = await start((env) => (respond) => {
      env['tsgix.cleanup.handlers']?.push((e) => ran.resolve(e['tsgix.signal']?.reason))
      respond([200, []])
    })
    const socket = await rawConnect(port)
    socket.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n')
    await readUntil(socket, /\r\n\r\n/)
    socket.destroy()
    expect(await ran.promise).toBe('client-disconnected')
  })
})

describe('close()', () => {
  it('lets an in-flight request finish within the grace period', async () => {
    const release = deferred()
    const entered = deferred()
    const { server, url } = await start(
      async () => {
        entered.resolve()
        await release.promise
        return [200, [], ['finished']]
      },
      { shutdownTimeout: 10_000 },
    )
    const pending = fetch(url).then((r) => r.text())
    await entered.promise
    const closed = server.close()
    release.resolve()
    expect(await pending).toBe('finished')
    await closed
    expect(server.server.listening).toBe(false)
    await expect(fetch(url)).rejects.toThrow()
  })

  it('past the grace period aborts with server-shutdown, destroys the connection and runs cleanup', async () => {
    const reason = deferred<unknown>()
    const cleaned = deferred()
    const entered = deferred()
    const { server, port } = await start(
      (env) => (respond) => {
        env['tsgix.signal']?.addEventListener('abort', () => reason.resolve(env['tsgix.signal']?.reason))
        env['tsgix.cleanup.handlers']?.push(() => cleaned.resolve())
        respond([200, []])
        entered.resolve()
      },
      { shutdownTimeout: 30 },
    )
    const socket = await rawConnect(port)
    const gone = once(socket, 'close')
    socket.resume()
    socket.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n')
    await entered.promise
    await server.close()
    expect(await reason.promise).toBe('server-shutdown')
    await cleaned.promise
    await gone
  })

  it('closes idle keep-alive connections at once', async () => {
    const { server, port } = await start(() => [200, [], ['ok']], { shutdownTimeout: 60_000 })
    const socket = await rawConnect(port)
    socket.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n')
    await readUntil(socket, /ok$/)
    const gone = once(socket, 'close')
    await server.close()
    await gone
  })

  it('a response finishing during shutdown goes out with Connection: close', async () => {
    const release = deferred()
    const entered = deferred()
    const { server, port } = await start(async () => {
      entered.resolve()
      await release.promise
      return [200, [], ['bye']]
    })
    const text = new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        { port, host: '127.0.0.1', agent: false, headers: { connection: 'keep-alive' } },
        (res) => {
          let body = ''
          res.on('data', (d: Buffer) => {
            body += d.toString()
          })
          res.on('end', () => resolve(`${res.headers.connection} ${body}`))
        },
      )
      req.on('error', reject)
      req.end()
    })
    await entered.promise
    const closed = server.close()
    release.resolve()
    expect(await text).toBe('close bye')
    await closed
  })

  it('is idempotent', async () => {
    const { server } = await start(() => [200, [], []])
    const a = server.close()
    expect(server.close()).toBe(a)
    await a
  })
})
