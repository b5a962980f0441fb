/**
 * The FastCGI server (`tsgi/server/fastcgi`) at the protocol level, driven by the test
 * client as a front end would drive it: multiplexing, KEEP_CONN, the management records, the
 * refusals (overloaded, unknown role, unknown type), aborts, stdin with backpressure, stdout
 * records, malformed records, the CGI response head, graceful close, and listening on a socket
 * handed over by spawn-fcgi.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type FastCgiServeOptions, type FastCgiServer, serve } from '../../src/server/fastcgi.js'
import {
  ABORT_REQUEST,
  BEGIN_REQUEST,
  decodePairs,
  encodePairs,
  GET_VALUES_RESULT,
  MAX_CONTENT,
  OVERLOADED,
  PARAMS,
  REQUEST_COMPLETE,
  record,
  STDIN,
  UNKNOWN_ROLE,
  UNKNOWN_TYPE,
} from '../../src/server/fastcgi-records.js'
import type { App, Env } from '../../src/types.js'
import { FcgiClient, type FcgiReply, paramsFor, parseCgi } from './fastcgi-client.js'
import { findBinary, skipWithout } from './tls-fixture.js'

let dir: string
let sockets = 0
const servers: FastCgiServer[] = []
const clients: FcgiClient[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-fastcgi-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

type Where = 'unix socket' | 'TCP'

/** A server on a fresh unix socket (or TCP port), its `errors` lines collected. */
async function start(app: App, options: FastCgiServeOptions = {}, where: Where = 'unix socket') {
  const errors: string[] = []
  const at = where === 'TCP' ? { port: 0, host: '127.0.0.1' } : { path: join(dir, `s${sockets++}.sock`) }
  const server = await serve(app, {
    shutdownTimeout: 2000,
    errors: { write: (line: string) => errors.push(line) },
    ...at,
    ...options,
  })
  servers.push(server)
  const address = 'path' in at ? at.path : server.port
  const open = async () => {
    const client = await FcgiClient.open(address)
    clients.push(client)
    return client
  }
  return { server, errors, open }
}

/** A promise and its resolve. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Reads `tsgi.input` whole. */
async function readAll(env: Env): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of env['tsgi.input']) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** Answers `METHOD path body` (the body read whole). */
const echo: App = async (env) => {
  const body = await readAll(env)
  return [
    200,
    ['Content-Type', 'text/plain'],
    [`${env.REQUEST_METHOD} ${env.PATH_INFO}?${env.QUERY_STRING} ${body}`],
  ]
}

function text(reply: FcgiReply): string {
  return parseCgi(reply.stdout).body.toString()
}

/** Calls `check` until it is true, each time after the event loop ran (I/O included). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5))
}

describe.each<Where>(['unix socket', 'TCP'])('on a %s', (where) => {
  it('multiplexes requests whose records interleave, answering each by its id', async () => {
    const { open, errors } = await start(echo, {}, where)
    const c = await open()
    const replies = [1, 2, 3].map((id) => c.begin(id))
    const params = (id: number) => encodePairs(Object.entries(paramsFor('POST', `/r${id}?q=${id}`)))
    const p1 = params(1)
    const p2 = params(2)
    const p3 = params(3)
    c.write(record(PARAMS, 2, p2.subarray(0, 10)))
    c.write(record(PARAMS, 1, p1.subarray(0, 50)))
    c.write(record(PARAMS, 3, p3))
    c.write(record(PARAMS, 2, p2.subarray(10)))
    c.write(record(PARAMS, 3))
    c.write(record(STDIN, 3, Buffer.from('three-a ')))
    c.write(record(PARAMS, 1, p1.subarray(50)))
    c.write(record(PARAMS, 2))
    c.write(record(STDIN, 2, Buffer.from('two')))
    c.write(record(PARAMS, 1))
    c.write(record(STDIN, 3, Buffer.from('three-b')))
    c.write(record(STDIN, 1, Buffer.from('one')))
    c.write(record(STDIN, 2))
    c.write(record(STDIN, 1))
    c.write(record(STDIN, 3))
    const [r1, r2, r3] = await Promise.all(replies)
    expect(text(r1!)).toBe('POST /r1?q=1 one')
    expect(text(r2!)).toBe('POST /r2?q=2 two')
    expect(text(r3!)).toBe('POST /r3?q=3 three-a three-b')
    for (const r of [r1!, r2!, r3!]) {
      expect(r.appStatus).toBe(0)
      expect(r.protocolStatus).toBe(REQUEST_COMPLETE)
      expect(parseCgi(r.stdout).status).toBe(200)
    }
    expect(errors).toEqual([])
  })

  it('keeps the connection with KEEP_CONN, and closes it after the response without', async () => {
    const { open } = await start(echo, {}, where)
    const c = await open()
    let closed = false
    void c.closed.then(() => {
      closed = true
    })
    expect(text(await c.request(1, paramsFor('GET', '/a')))).toBe('GET /a? ')
    expect(text(await c.request(1, paramsFor('GET', '/b')))).toBe('GET /b? ')
    expect(closed).toBe(false)
    expect(text(await c.request(2, paramsFor('GET', '/last'), undefined, false))).toBe('GET /last? ')
    await c.closed
  })
})

describe('management records', () => {
  it('FCGI_GET_VALUES answers the configured limits and 1 for FCGI_MPXS_CONNS, leaving out unknown names', async () => {
    const { open } = await start(echo, { maxConnections: 7, maxRequests: 33 })
    const c = await open()
    c.getValues(['FCGI_MAX_CONNS', 'FCGI_NOT_A_VALUE', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS'])
    await c.managementRecords(1)
    const answer = c.management[0]!
    expect(answer.type).toBe(GET_VALUES_RESULT)
    expect({ ...(decodePairs(answer.content) as Record<string, string>) }).toEqual({
      FCGI_MAX_CONNS: '7',
      FCGI_MAX_REQS: '33',
      FCGI_MPXS_CONNS: '1',
    })
    // the connection goes on serving
    expect(text(await c.request(1, paramsFor('GET', '/after')))).toBe('GET /after? ')
  })

  it('the defaults: 1024 connections, 4096 requests', async () => {
    const { open } = await start(echo)
    const c = await open()
    c.getValues(['FCGI_MAX_CONNS', 'FCGI_MAX_REQS'])
    await c.managementRecords(1)
    expect({ ...(decodePairs(c.management[0]!.content) as Record<string, string>) }).toEqual({
      FCGI_MAX_CONNS: '1024',
      FCGI_MAX_REQS: '4096',
    })
  })

  it.each([
    ['on request id 0', 0, 12],
    ['on a request id', 1, 99],
  ])('an unknown record type %s gets FCGI_UNKNOWN_TYPE naming it', async (_label, id, type) => {
    const { open, errors } = await start(echo)
    const c = await open()
    c.write(record(type, id, Buffer.from('whatever')))
    await c.managementRecords(1)
    const answer = c.management[0]!
    expect(answer.type).toBe(UNKNOWN_TYPE)
    expect(answer.content[0]).toBe(type)
    expect(text(await c.request(2, paramsFor('GET', '/still')))).toBe('GET /still? ')
    expect(errors).toEqual([])
  })
})

describe('refusals', () => {
  it('a request over maxRequests gets FCGI_OVERLOADED; those in progress complete', async () => {
    const release = deferred()
    let calls = 0
    const { open } = await start(
      async (env) => {
        calls++
        await release.promise
        return echo(env)
      },
      { maxRequests: 2 },
    )
    const c = await open()
    const one = c.request(1, paramsFor('GET', '/1'))
    const two = c.request(2, paramsFor('GET', '/2'))
    await until(() => calls === 2)
    const three = await c.request(3, paramsFor('GET', '/3'))
    expect(three.protocolStatus).toBe(OVERLOADED)
    expect(three.stdout.length).toBe(0)
    release.resolve()
    expect(text(await one)).toBe('GET /1? ')
    expect(text(await two)).toBe('GET /2? ')
    // a slot is free again
    expect(text(await c.request(3, paramsFor('GET', '/3')))).toBe('GET /3? ')
    expect(calls).toBe(3)
  })

  it.each([
    ['authorizer', 2],
    ['filter', 3],
  ])('the %s role (%i) gets FCGI_UNKNOWN_ROLE', async (_name, role) => {
    let calls = 0
    const { open } = await start((env) => {
      calls++
      return echo(env)
    })
    const c = await open()
    const reply = await c.begin(1, { role })
    expect(reply.protocolStatus).toBe(UNKNOWN_ROLE)
    expect(reply.stdout.length).toBe(0)
    expect(text(await c.request(2, paramsFor('GET', '/responder')))).toBe('GET /responder? ')
    expect(calls).toBe(1)
  })
})

describe('FCGI_ABORT_REQUEST', () => {
  it("aborts tsgix.signal with 'client-disconnected' and ends the request with FCGI_END_REQUEST", async () => {
    const aborted = deferred<unknown>()
    const started = deferred()
    const { open } = await start((env) => (respond) => {
      const signal = env['tsgix.signal']!
      signal.addEventListener('abort', () => aborted.resolve(signal.reason))
      const writer = respond([200, ['Content-Type', 'text/plain']])
      void writer.write('partial').then(() => started.resolve())
    })
    const c = await open()
    const reply = c.request(1, paramsFor('GET', '/long'))
    await started.promise
    c.write(record(ABORT_REQUEST, 1))
    expect(await aborted.promise).toBe('client-disconnected')
    const r = await reply
    expect(r.protocolStatus).toBe(REQUEST_COMPLETE)
    // the connection carries on (KEEP_CONN)
    const next = c.request(2, paramsFor('GET', '/next'))
    c.write(record(ABORT_REQUEST, 2))
    await next
  })

  it('an abort before the params end: the app never runs, the request ends', async () => {
    let calls = 0
    const { open } = await start((env) => {
      calls++
      return echo(env)
    })
    const c = await open()
    const reply = c.begin(1)
    c.write(record(ABORT_REQUEST, 1))
    expect((await reply).protocolStatus).toBe(REQUEST_COMPLETE)
    expect(text(await c.request(2, paramsFor('GET', '/x')))).toBe('GET /x? ')
    expect(calls).toBe(1)
  })
})

describe('stdin', () => {
  it('reaches tsgi.input as it arrives: the app sees a chunk before the end', async () => {
    const first = deferred<string>()
    const { open } = await start(async (env) => {
      const chunks: string[] = []
      for await (const chunk of env['tsgi.input']) {
        chunks.push(Buffer.from(chunk).toString())
        if (chunks.length === 1) first.resolve(chunks[0]!)
      }
      return [200, [], [chunks.join('|')]]
    })
    const c = await open()
    const reply = c.begin(1)
    c.params(1, paramsFor('POST', '/up', { CONTENT_LENGTH: '11' }))
    c.stdin(1, Buffer.from('hello'))
    expect(await first.promise).toBe('hello')
    c.stdin(1, Buffer.from(' world'))
    c.stdin(1)
    expect(text(await reply)).toBe('hello| world')
  })

  it('an app that does not read stops the connection being read (the client buffers), and reads it all later', async () => {
    const go = deferred()
    let input: { readableLength: number } | undefined
    const { open } = await start(async (env) => {
      if (env.PATH_INFO === '/other') return [200, [], ['other']]
      input = env['tsgi.input'] as unknown as { readableLength: number }
      await go.promise
      return [200, [], [String((await readAll(env)).length)]]
    })
    const c = await open()
    const other = await open()
    const size = 16 * 2 ** 20
    const reply = c.begin(1)
    c.params(1, paramsFor('POST', '/big', { CONTENT_LENGTH: String(size) }))
    c.stdin(1, Buffer.alloc(size, 'x'))
    c.stdin(1)
    await until(() => (input?.readableLength ?? 0) >= 64 * 1024)
    // another connection is served meanwhile: the event loop ran, reading went on elsewhere
    expect(text(await other.request(1, paramsFor('GET', '/other')))).toBe('other')
    const held = input!.readableLength
    // the server holds at most its mark and what one read brought; the rest waits in the client
    expect(held).toBeLessThan(64 * 1024 + 2 * MAX_CONTENT + 16)
    expect(c.socket.writableLength).toBeGreaterThan(size - 4 * 2 ** 20)
    go.resolve()
    expect(text(await reply)).toBe(String(size))
  })

  it('a response that leaves stdin unread does not stall the next request on the connection', async () => {
    const { open } = await start((env) => [200, [], [`answered ${env.PATH_INFO}`]])
    const c = await open()
    const size = 4 * 2 ** 20
    const first = c.begin(1)
    c.params(1, paramsFor('POST', '/first', { CONTENT_LENGTH: String(size) }))
    c.stdin(1, Buffer.alloc(size, 'y'))
    c.stdin(1)
    expect(text(await first)).toBe('answered /first')
    const second = c.begin(2)
    c.params(2, paramsFor('POST', '/second', { CONTENT_LENGTH: String(size) }))
    c.stdin(2, Buffer.alloc(size, 'z'))
    c.stdin(2)
    expect(text(await second)).toBe('answered /second')
    expect(text(await c.request(1, paramsFor('GET', '/third')))).toBe('answered /third')
  })
})

describe('stdout', () => {
  it('a 1 MiB body goes in records of at most 65,535 bytes, then an empty one', async () => {
    const body = Buffer.alloc(2 ** 20)
    for (let i = 0; i < body.length; i++) body[i] = i % 251
    const { open } = await start(() => [200, ['Content-Type', 'application/octet-stream'], [body]])
    const c = await open()
    const reply = await c.request(1, paramsFor('GET', '/big'))
    const res = parseCgi(reply.stdout)
    expect(res.body.equals(body)).toBe(true)
    expect(res.headers).toContainEqual(['Content-Length', String(body.length)])
    expect(Math.max(...reply.records)).toBeLessThanOrEqual(MAX_CONTENT)
    expect(reply.records.at(-1)).toBe(0)
    expect(reply.records.length).toBeGreaterThanOrEqual(Math.ceil(body.length / MAX_CONTENT) + 1)
  })

  it('a head and a small body go in one stdout record, then the empty one', async () => {
    const { open } = await start(() => [200, ['Content-Type', 'text/plain'], ['Hello, ', 'World!']])
    const c = await open()
    const reply = await c.request(1, paramsFor('GET', '/'))
    expect(reply.records).toEqual([reply.stdout.length, 0])
    expect(parseCgi(reply.stdout).body.toString()).toBe('Hello, World!')
  })

  it('a head longer than one record is split over records like a body', async () => {
    const long = 'v'.repeat(70_000)
    const { open } = await start(() => [200, ['X-Long', long], ['after']])
    const c = await open()
    const reply = await c.request(1, paramsFor('GET', '/'))
    expect(Math.max(...reply.records)).toBeLessThanOrEqual(MAX_CONTENT)
    const res = parseCgi(reply.stdout)
    expect(res.headers).toContainEqual(['X-Long', long])
    expect(res.body.toString()).toBe('after')
  })

  it('streamed writes arrive before the response ends', async () => {
    const more = deferred()
    const { open } = await start(() => async (respond) => {
      const writer = respond([200, ['Content-Type', 'text/plain']])
      await writer.write('first-chunk')
      await more.promise
      await writer.write('second-chunk')
      await writer.close()
    })
    const c = await open()
    let seen = Buffer.alloc(0)
    const sawFirst = deferred()
    c.socket.on('data', (d: Buffer) => {
      seen = Buffer.concat([seen, d])
      if (seen.includes('first-chunk')) sawFirst.resolve()
    })
    let ended = false
    const reply = c.request(1, paramsFor('GET', '/stream')).then((r) => {
      ended = true
      return r
    })
    await sawFirst.promise
    expect(ended).toBe(false)
    more.resolve()
    expect(text(await reply)).toBe('first-chunksecond-chunk')
  })
})

describe('malformed records close their connection only', () => {
  const params = encodePairs(Object.entries(paramsFor('GET', '/')))
  const begin = record(BEGIN_REQUEST, 1, Buffer.from([0, 1, 1, 0, 0, 0, 0, 0]))
  const badVersion = record(PARAMS, 1, params)
  badVersion[0] = 2
  it.each([
    ['a record of another version', [begin, badVersion], /FastCGI version 2/],
    ['a second BEGIN for the same id', [begin, begin], /request id 1 began twice/],
    [
      'params that run past their end',
      [begin, record(PARAMS, 1, Buffer.from([0x80, 0, 0])), record(PARAMS, 1)],
      /runs past the end/,
    ],
    ['a short BEGIN', [record(BEGIN_REQUEST, 1, Buffer.from([0, 1]))], /short FCGI_BEGIN_REQUEST/],
    ['GET_VALUES with bad pairs', [record(9, 0, Buffer.from([5, 0, 0x41]))], /runs past the end/],
  ])('%s', async (_label, records, message) => {
    const release = deferred()
    const { open, errors } = await start(async (env) => {
      if (env.PATH_INFO === '/slow') await release.promise
      return echo(env)
    })
    const good = await open()
    const inFlight = good.request(1, paramsFor('GET', '/slow'))
    const bad = await open()
    for (const r of records) bad.write(r)
    await bad.closed
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^tsgi: FastCGI connection from the front end closed: /)
    expect(errors[0]).toMatch(message)
    release.resolve()
    expect(text(await inFlight)).toBe('GET /slow? ')
    expect(text(await good.request(2, paramsFor('GET', '/more')))).toBe('GET /more? ')
  })
})

describe('the response head', () => {
  it('Status carries a custom reason phrase; repeated headers stay repeated, in order', async () => {
    const { open } = await start((env) => {
      env['tsgix.reason_phrase'] = 'Very Fine'
      return [201, ['Set-Cookie', 'a=1', 'X-One', 'x', 'Set-Cookie', 'b=2'], ['made']]
    })
    const c = await open()
    const reply = await c.request(1, paramsFor('GET', '/'))
    expect(reply.stdout.toString('latin1')).toMatch(/^Status: 201 Very Fine\r\n/)
    const res = parseCgi(reply.stdout)
    expect(res.status).toBe(201)
    expect(res.reason).toBe('Very Fine')
    expect(res.headers).toEqual([
      ['Set-Cookie', 'a=1'],
      ['X-One', 'x'],
      ['Set-Cookie', 'b=2'],
      ['Content-Length', '4'],
    ])
    expect(res.body.toString()).toBe('made')
  })

  it('the standard reason phrase without one', async () => {
    const { open } = await start(() => [404, ['Content-Type', 'text/plain'], ['no']])
    const c = await open()
    expect((await c.request(1, paramsFor('GET', '/'))).stdout.toString('latin1')).toMatch(
      /^Status: 404 Not Found\r\n/,
    )
  })

  it.each([
    ['an array body', ['one', 'two']],
    [
      'a streaming body',
      (async function* () {
        yield 'one'
        yield 'two'
      })(),
    ],
  ])("an app's Transfer-Encoding is dropped (%s): the body goes unframed", async (_label, body) => {
    const { open } = await start(() => [
      200,
      ['Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked'],
      body,
    ])
    const c = await open()
    const res = parseCgi((await c.request(1, paramsFor('GET', '/'))).stdout)
    expect(res.headers.map(([n]) => n.toLowerCase())).not.toContain('transfer-encoding')
    expect(res.body.toString()).toBe('onetwo')
  })

  it('HEAD: the head with its Content-Length, no body', async () => {
    const { open } = await start(() => [200, ['Content-Type', 'text/plain'], ['hello']])
    const c = await open()
    const res = parseCgi((await c.request(1, paramsFor('HEAD', '/'))).stdout)
    expect(res.status).toBe(200)
    expect(res.headers).toContainEqual(['Content-Length', '5'])
    expect(res.body.length).toBe(0)
  })

  it('an app that throws: 500 and a line on errors', async () => {
    const { open, errors } = await start(() => {
      throw new Error('kaboom')
    })
    const c = await open()
    const reply = await c.request(1, paramsFor('GET', '/boom'))
    expect(parseCgi(reply.stdout).status).toBe(500)
    expect(reply.protocolStatus).toBe(REQUEST_COMPLETE)
    expect(errors.join('')).toMatch(/GET \/boom.*kaboom/)
    expect(text(await c.request(2, paramsFor('GET', '/')))).toBe('Internal Server Error')
  })
})

describe('close()', () => {
  it('lets a request in flight finish, then resolves', async () => {
    const release = deferred()
    const started = deferred()
    const { server, open } = await start(async (env) => {
      started.resolve()
      await release.promise
      return echo(env)
    })
    const c = await open()
    const reply = c.request(1, paramsFor('GET', '/inflight'))
    await started.promise
    let closed = false
    const closing = server.close().then(() => {
      closed = true
    })
    // another round trip of the event loop's I/O: close is still waiting on the request
    await new Promise((r) => setImmediate(r))
    expect(closed).toBe(false)
    release.resolve()
    expect(text(await reply)).toBe('GET /inflight? ')
    await closing
    await c.closed
    expect(closed).toBe(true)
  })
})

describe('10,000 requests multiplexed over 4 connections', () => {
  it('all answered right, no errors', async () => {
    const { open, errors } = await start((env) => [200, ['Content-Type', 'text/plain'], [env.QUERY_STRING]])
    const total = 10_000
    const window = 64
    let next = 0
    let right = 0
    const run = async (c: FcgiClient) => {
      const lane = async (id: number) => {
        for (;;) {
          const n = next++
          if (n >= total) return
          const reply = await c.request(id, paramsFor('GET', `/?${n}`))
          const res = parseCgi(reply.stdout)
          if (res.status === 200 && res.body.toString() === String(n) && reply.protocolStatus === 0) right++
        }
      }
      await Promise.all(Array.from({ length: window }, (_, i) => lane(i + 1)))
    }
    const connections = await Promise.all([open(), open(), open(), open()])
    await Promise.all(connections.map(run))
    expect(right).toBe(total)
    expect(errors).toEqual([])
  })
})

const spawnFcgi = findBinary('spawn-fcgi', ['-v'])
const root = resolve(import.meta.dirname, '../..')

describe.skipIf(
  skipWithout(
    'the FastCGI fd-0 test',
    spawnFcgi === undefined ? 'spawn-fcgi not found (Debian package spawn-fcgi)' : undefined,
  ),
)('listening on an inherited socket (fd 0)', () => {
  let child: ChildProcess | undefined
  afterEach(() => {
    child?.kill('SIGKILL')
  })

  it('serves on the socket spawn-fcgi binds and hands over as stdin', async () => {
    const sock = join(dir, 'spawned.sock')
    const script = join(dir, 'fd0.mts')
    const fastcgi = pathToFileURL(join(root, 'src/server/fastcgi.ts')).href
    await writeFile(
      script,
      `import { serve } from ${JSON.stringify(fastcgi)}
const server = await serve((env) => [200, ['Content-Type', 'text/plain'], ['fd0 ' + env.PATH_INFO]], { fd: 0 })
process.stdout.write(server.url + '\\n')
process.once('SIGTERM', () => void server.close())
`,
    )
    const tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href
    child = spawn(spawnFcgi!, ['-n', '-s', sock, '--', process.execPath, '--import', tsx, script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string]
    expect(line).toBe('fastcgi+fd://0/')
    const c = await FcgiClient.open(sock)
    clients.push(c)
    expect(text(await c.request(1, paramsFor('GET', '/here')))).toBe('fd0 /here')
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    expect((await exited)[0]).toBe(0)
  })
})
