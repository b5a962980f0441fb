/**
 * Lifespan on every server (spec 5.8): `startLifespan` itself (order, a failed startup, failing
 * shutdowns); the node and HTTP/2 servers (nothing listens before startup has finished, a
 * failed startup rejects serve() and leaves nothing listening, a listen failure shuts down what
 * started, shutdown after an in-flight response finished and before close() resolves,
 * `lifespan: false`); and the fetch adapter (startup before the first request, shared by
 * concurrent ones, retried after a failure; `startup()` and `shutdown()`).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import http, { type IncomingMessage } from 'node:http'
import http2 from 'node:http2'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type LifespanHooks, withLifespan } from '../../src/lifespan.js'
import { toFetchHandler } from '../../src/server/fetch.js'
import { serve as serveHttp2 } from '../../src/server/http2.js'
import { startLifespan } from '../../src/server/lifespan.js'
import type { Listening } from '../../src/server/listen.js'
import { serve as serveNode } from '../../src/server/node.js'
import type { App, Delayed, ErrorStream } from '../../src/types.js'
import { deferred, ErrorSink } from './node-helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'tsgi-lifespan-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let socketCount = 0
const socketPath = () => join(dir, `s${++socketCount}.sock`)

/** Resolves with the error code of a connection attempt to the unix socket `path` ('connected' if it connects). */
function tryConnect(path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(path)
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

/** Hooks logging to `log`. */
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

const hello: App = () => [200, ['Content-Type', 'text/plain'], ['hello']]

describe('startLifespan', () => {
  it('runs startups in order, shutdowns in reverse, each awaited; shutdown() runs once', async () => {
    const log: string[] = []
    const slow = deferred()
    const app = withLifespan(
      hello,
      logged(log, 'a'),
      {
        startup: async () => {
          await slow.promise
          log.push('startup b')
        },
        shutdown: async () => {
          log.push('shutdown b')
        },
      },
      logged(log, 'c'),
    )
    const starting = startLifespan(app, new ErrorSink())
    expect(log).toEqual(['startup a'])
    slow.resolve()
    const started = await starting
    expect(log).toEqual(['startup a', 'startup b', 'startup c'])
    const first = started.shutdown()
    expect(started.shutdown()).toBe(first)
    await first
    expect(log.slice(3)).toEqual(['shutdown c', 'shutdown b', 'shutdown a'])
  })

  it('reports a failing shutdown on the errors stream and runs the others', async () => {
    const log: string[] = []
    const errors = new ErrorSink()
    const app = withLifespan(
      hello,
      logged(log, 'a'),
      {
        shutdown: () => {
          throw new Error('quit failed')
        },
      },
      {
        shutdown: () => Promise.reject(new Error('end failed')),
      },
    )
    const started = await startLifespan(app, errors)
    await expect(started.shutdown()).resolves.toBeUndefined()
    expect(log).toEqual(['startup a', 'shutdown a'])
    expect(errors.lines).toHaveLength(2)
    expect(errors.lines[0]).toMatch(/^tsgi: lifespan shutdown failed: Error: end failed\n/)
    expect(errors.lines[1]).toMatch(/^tsgi: lifespan shutdown failed: Error: quit failed\n/)
  })

  it('an app without hooks starts and stops at once', async () => {
    const started = await startLifespan(hello, new ErrorSink())
    await expect(started.shutdown()).resolves.toBeUndefined()
  })
})

/** The options these tests give a server. */
interface ServeOptionsLike {
  readonly path?: string
  readonly errors?: ErrorStream
  readonly lifespan?: boolean
}

/** The two listening servers, with one signature. */
const servers: readonly [string, (app: App, options: ServeOptionsLike) => Promise<Listening<unknown>>][] = [
  ['node', serveNode],
  ['http2', serveHttp2],
]

/** GET / over the unix socket `path`, with HTTP/1.1 or (h2c) HTTP/2; resolves with the first chunk and the rest. */
function request(kind: string, path: string): { first: Promise<string>; body: Promise<string> } {
  const first = deferred<string>()
  const body = new Promise<string>((resolve, reject) => {
    let seen = ''
    const onData = (chunk: Buffer) => {
      if (seen === '') first.resolve(chunk.toString())
      seen += chunk.toString()
    }
    if (kind === 'node') {
      const req = http.request({ socketPath: path, path: '/', agent: false }, (res: IncomingMessage) => {
        res.on('data', onData)
        res.on('end', () => (res.complete ? resolve(seen) : reject(new Error('incomplete'))))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    } else {
      const session = http2.connect('http://localhost', { createConnection: () => connect(path) })
      session.on('error', reject)
      const stream = session.request({ ':path': '/' })
      stream.on('data', onData)
      stream.on('end', () => {
        session.close()
        resolve(seen)
      })
      stream.on('error', reject)
    }
  })
  return { first: first.promise, body }
}

describe.each(servers)('%s serve()', (kind, serve) => {
  it('accepts no connection before startup has finished', async () => {
    const gate = deferred()
    const entered = deferred()
    const app = withLifespan(hello, {
      startup: async () => {
        entered.resolve()
        await gate.promise
      },
    })
    const path = socketPath()
    let resolved = false
    const serving = serve(app, { path, errors: new ErrorSink() }).then((s) => {
      resolved = true
      return s
    })
    await entered.promise
    expect(await tryConnect(path)).toBe('ENOENT')
    expect(existsSync(path)).toBe(false)
    expect(resolved).toBe(false)
    gate.resolve()
    const server = await serving
    expect(await tryConnect(path)).toBe('connected')
    expect(await request(kind, path).body).toBe('hello')
    await server.close()
  })

  it('rejects with the startup error, after shutting down what had started, and listens nowhere', async () => {
    const log: string[] = []
    const failure = new Error('database unreachable')
    const app = withLifespan(hello, logged(log, 'pool'), {
      startup: () => Promise.reject(failure),
      shutdown: () => {
        log.push('shutdown failing')
      },
    })
    const path = socketPath()
    await expect(serve(app, { path, errors: new ErrorSink() })).rejects.toBe(failure)
    expect(log).toEqual(['startup pool', 'shutdown pool'])
    expect(existsSync(path)).toBe(false)
    expect(await tryConnect(path)).toBe('ENOENT')
  })

  it('shuts down what started when listening fails', async () => {
    const log: string[] = []
    const taken = socketPath()
    const first = await serve(hello, { path: taken, errors: new ErrorSink() })
    const app = withLifespan(hello, logged(log, 'pool'))
    await expect(serve(app, { path: taken, errors: new ErrorSink() })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    })
    expect(log).toEqual(['startup pool', 'shutdown pool'])
    await first.close()
  })

  it('on close(), runs shutdown after the in-flight response finished and the server closed, then resolves', async () => {
    const events: string[] = []
    const release = deferred()
    let server: Listening<unknown> | undefined
    const slow: App = () =>
      (async (respond) => {
        const writer = respond([200, ['Content-Type', 'text/plain']])
        await writer.write('first ')
        await release.promise
        await writer.write('last')
        await writer.close()
        events.push('response done')
      }) satisfies Delayed
    const app = withLifespan(slow, {
      startup: () => {
        events.push('startup')
      },
      shutdown: () => {
        const node = server?.server as { listening?: boolean } | undefined
        events.push(`shutdown (listening: ${node?.listening})`)
      },
    })
    const path = socketPath()
    server = await serve(app, { path, errors: new ErrorSink() })
    const answer = request(kind, path)
    expect(await answer.first).toBe('first ')
    const closed = server.close().then(() => events.push('closed'))
    expect(events).toEqual(['startup'])
    release.resolve()
    expect(await answer.body).toBe('first last')
    await closed
    expect(events).toEqual(['startup', 'response done', 'shutdown (listening: false)', 'closed'])
  })

  it('runs no hooks with lifespan: false', async () => {
    const log: string[] = []
    const app = withLifespan(hello, logged(log, 'pool'))
    const server = await serve(app, { path: socketPath(), errors: new ErrorSink(), lifespan: false })
    await server.close()
    expect(log).toEqual([])
  })

  it('reports a failing shutdown on its errors stream and still closes', async () => {
    const errors = new ErrorSink()
    const app = withLifespan(hello, {
      shutdown: () => {
        throw new Error('flush failed')
      },
    })
    const server = await serve(app, { path: socketPath(), errors })
    await expect(server.close()).resolves.toBeUndefined()
    expect(errors.text).toMatch(/^tsgi: lifespan shutdown failed: Error: flush failed\n/)
  })

  it('checks the lifespan option', () => {
    expect(() => serve(hello, { lifespan: 'yes' as never })).toThrow(
      /serve: option 'lifespan' must be a boolean/,
    )
  })
})

describe('toFetchHandler', () => {
  const get = () => new Request('http://localhost/')

  it('runs startup before the first request, once for concurrent first requests', async () => {
    const log: string[] = []
    const gate = deferred()
    const entered = deferred()
    let startups = 0
    const app = withLifespan(
      (env) => {
        log.push(`request ${env.PATH_INFO}`)
        return [200, [], ['ok']]
      },
      {
        startup: async () => {
          startups++
          entered.resolve()
          await gate.promise
          log.push('started')
        },
      },
    )
    const handler = toFetchHandler(app, { errors: new ErrorSink() })
    const a = handler(get())
    const b = handler(get())
    await entered.promise
    expect(log).toEqual([])
    gate.resolve()
    const [ra, rb] = await Promise.all([a, b])
    expect([ra.status, rb.status]).toEqual([200, 200])
    expect(log).toEqual(['started', 'request /', 'request /'])
    expect((await handler(get())).status).toBe(200)
    expect(startups).toBe(1)
  })

  it('answers 500 while startup fails, reports it, and tries again on the next request', async () => {
    const errors = new ErrorSink()
    let attempts = 0
    const app = withLifespan(hello, {
      startup: () => {
        attempts++
        if (attempts === 1) throw new Error('no database yet')
      },
    })
    const handler = toFetchHandler(app, { errors })
    const failed = await handler(get())
    expect(failed.status).toBe(500)
    await failed.text()
    expect(errors.text).toContain('no database yet')
    const ok = await handler(get())
    expect(ok.status).toBe(200)
    expect(await ok.text()).toBe('hello')
    expect(attempts).toBe(2)
  })

  it('startup() runs it ahead of requests and rejects with its error; shutdown() runs the shutdowns', async () => {
    const log: string[] = []
    const handler = toFetchHandler(withLifespan(hello, logged(log, 'pool')), { errors: new ErrorSink() })
    await handler.startup()
    await handler.startup()
    expect(log).toEqual(['startup pool'])
    expect((await handler(get())).status).toBe(200)
    await handler.shutdown()
    expect(log).toEqual(['startup pool', 'shutdown pool'])
    await handler.shutdown()
    expect(log).toHaveLength(2)
    // a later request starts the hooks again
    expect((await handler(get())).status).toBe(200)
    expect(log).toEqual(['startup pool', 'shutdown pool', 'startup pool'])

    const failing = toFetchHandler(
      withLifespan(hello, { startup: () => Promise.reject(new Error('bad config')) }),
      { errors: new ErrorSink() },
    )
    await expect(failing.startup()).rejects.toThrow('bad config')
  })

  it('has startup() and shutdown() that do nothing for an app without hooks', async () => {
    const handler = toFetchHandler(hello, { errors: new ErrorSink() })
    await handler.startup()
    expect((await handler(get())).status).toBe(200)
    await handler.shutdown()
  })
})
