/**
 * `sse()` (src/sse.ts): event framing (checked against a WHATWG event-stream parser, with
 * property tests), the head, heartbeats (on a fake clock, and arriving for real), Last-Event-ID,
 * the stream's signal, a client leaving, a handler throwing and bad options; through the public
 * harness (in process and on the node server), behind Deflater with gzip decoded as it arrives,
 * over HTTP/2 (h2c) and behind a real nginx (skipped with a printed reason without it).
 */
import { once } from 'node:events'
import http from 'node:http'
import zlib from 'node:zlib'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { builder, enable } from '../builder/index.js'
import { type Http2TsgiServer, serve as serveHttp2 } from '../src/server/http2.js'
import { type SseEvent, type SseOptions, type SseStream, sse } from '../src/sse.js'
import { remoteHttp2Fetch } from '../src/testing/http2-client.js'
import { requestEnv, runResponse, testApp } from '../src/testing/index.js'
import type { App, Env, Responder, Writer } from '../src/types.js'
import { skipNginx, startNginx } from './server/nginx-fixture.js'
import { deferred, ErrorSink, rawConnect, readUntil, start } from './server/node-helpers.js'

// ---------------------------------------------------------------------------------------------
// Helpers

/** Reads an event stream block by block (each ending with its blank line), only as asked. */
class Blocks {
  private text = ''
  private done = false
  constructor(
    private readonly read: () => Promise<string | null>,
    /** Stops reading: the client leaves. */
    readonly cancel: () => Promise<void> = async () => {},
  ) {}

  /** A web Response's body. */
  static web(res: globalThis.Response): Blocks {
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    return new Blocks(
      async () => {
        const r = await reader.read()
        return r.done ? null : decoder.decode(r.value, { stream: true })
      },
      () => reader.cancel(),
    )
  }

  /** A node stream (set to utf8). */
  static node(stream: NodeJS.ReadableStream & AsyncIterable<string | Buffer>): Blocks {
    stream.setEncoding('utf8')
    const it = stream[Symbol.asyncIterator]()
    return new Blocks(async () => {
      const r = await it.next()
      return r.done ? null : String(r.value)
    })
  }

  /** The next block, or undefined at the end of the body. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const at = this.text.indexOf('\n\n')
      if (at >= 0) {
        const block = this.text.slice(0, at + 2)
        this.text = this.text.slice(at + 2)
        return block
      }
      if (this.done) {
        if (this.text !== '') throw new Error(`body ended inside a block: ${JSON.stringify(this.text)}`)
        return undefined
      }
      const chunk = await this.read()
      if (chunk === null) this.done = true
      else this.text += chunk
    }
  }

  /** The next block that is not a heartbeat. */
  async event(): Promise<string | undefined> {
    for (;;) {
      const block = await this.next()
      if (block !== ':\n\n') return block
    }
  }

  /** Every block left. */
  async rest(): Promise<string[]> {
    const out: string[] = []
    for (let b = await this.next(); b !== undefined; b = await this.next()) out.push(b)
    return out
  }
}

/** The events a browser dispatches from an event stream (WHATWG HTML §9.2.6), and the retry it takes. */
function parseEventStream(text: string): {
  events: { type: string; data: string; id: string }[]
  retry?: number
} {
  const events: { type: string; data: string; id: string }[] = []
  let data = ''
  let type = ''
  let idBuffer = ''
  let retry: number | undefined
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data === '') {
        type = ''
        continue
      }
      events.push({
        type: type || 'message',
        data: data.endsWith('\n') ? data.slice(0, -1) : data,
        id: idBuffer,
      })
      data = ''
      type = ''
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const name = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (name === 'data') data += `${value}\n`
    else if (name === 'event') type = value
    else if (name === 'id' && !value.includes('\0')) idBuffer = value
    else if (name === 'retry' && /^\d+$/.test(value)) retry = Number(value)
  }
  return retry === undefined ? { events } : { events, retry }
}

/** The body `handler` produces, run to its end with the public harness's runResponse. */
async function bodyOf(handler: (stream: SseStream) => Promise<void>, options?: SseOptions): Promise<string> {
  const env = requestEnv({ url: '/events' })
  return (await runResponse(sse(env, handler, { heartbeat: 0, ...options }))).body
}

/** A responder whose writer records every write; `hold` makes writes wait until released. */
function recorder() {
  const writes: string[] = []
  let heads = 0
  let closed = false
  const held: (() => void)[] = []
  let hold = false
  const writer: Writer = {
    write: (chunk) => {
      writes.push(String(chunk))
      if (!hold) return Promise.resolve()
      return new Promise<void>((resolve) => held.push(resolve))
    },
    close: () => {
      closed = true
      return Promise.resolve()
    },
  }
  const respond = (() => {
    heads++
    return writer
  }) as Responder
  return {
    respond,
    writes,
    heads: () => heads,
    closed: () => closed,
    hold(on: boolean) {
      hold = on
    },
    release() {
      for (const r of held.splice(0)) r()
    },
  }
}

const IMPLS = ['MockHTTP', 'Server'] as const

// ---------------------------------------------------------------------------------------------
// Framing

describe('sse: framing', () => {
  it('writes each event as its fields, one data line per line, and a blank line', async () => {
    const body = await bodyOf(async (s) => {
      await s.send({ data: 'one' })
      await s.send({ data: 'a\nb\r\nc\rd' })
      await s.send({ event: 'tick', id: '7', data: 'x' })
      await s.send({ retry: 1500, data: '' })
      await s.send({ id: '' })
      await s.send({ data: 'tail\n' })
      await s.send({ data: ' lead' })
      await s.send({ event: 'ü', id: 'é', data: '😀' })
      await s.comment('hello\nworld')
      await s.comment('')
    })
    expect(body).toBe(
      [
        'data: one\n\n',
        'data: a\ndata: b\ndata: c\ndata: d\n\n',
        'event: tick\nid: 7\ndata: x\n\n',
        'retry: 1500\ndata:\n\n',
        'id:\n\n',
        'data: tail\ndata:\n\n',
        'data:  lead\n\n',
        'event: ü\nid: é\ndata: 😀\n\n',
        ': hello\n: world\n\n',
        ':\n\n',
      ].join(''),
    )
    expect(parseEventStream(body)).toEqual({
      retry: 1500,
      events: [
        { type: 'message', data: 'one', id: '' },
        { type: 'message', data: 'a\nb\nc\nd', id: '' },
        { type: 'tick', data: 'x', id: '7' },
        { type: 'message', data: '', id: '7' },
        { type: 'message', data: 'tail\n', id: '' },
        { type: 'message', data: ' lead', id: '' },
        { type: 'ü', data: '😀', id: 'é' },
      ],
    })
  })

  const unit = fc.constantFrom('a', 'Z', ' ', ':', '\n', '\r', '\r\n', '\0', 'é', '😀', 'data: ', 'id:')
  it('round-trips any data, event and id through a browser parser (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit }),
        fc.option(
          fc.string({ unit }).map((s) => s.replace(/[\r\n]/g, '')),
          { nil: undefined },
        ),
        fc.option(
          fc.string({ unit }).map((s) => s.replace(/[\r\n\0]/g, '')),
          { nil: undefined },
        ),
        async (data, event, id) => {
          const sent: SseEvent = {
            data,
            ...(event === undefined ? {} : { event }),
            ...(id === undefined ? {} : { id }),
          }
          const body = await bodyOf(async (s) => s.send(sent))
          expect(parseEventStream(body).events).toEqual([
            { type: event || 'message', data: data.replace(/\r\n|\r/g, '\n'), id: id ?? '' },
          ])
        },
      ),
      { numRuns: 200 },
    )
  })

  it.each([
    [{ event: 'a\nb', data: '' }, /'event' must be a string without CR or LF/],
    [{ event: 'a\rb', data: '' }, /'event' must be a string without CR or LF/],
    [{ id: '1\n', data: '' }, /'id' must be a string without CR, LF or NUL/],
    [{ id: '1\r', data: '' }, /'id' must be a string without CR, LF or NUL/],
    [{ id: '1\0', data: '' }, /'id' must be a string without CR, LF or NUL/],
    [{ id: 1 }, /'id' must be a string/],
    [{ retry: -1 }, /'retry' must be a non-negative integer/],
    [{ retry: 1.5 }, /'retry' must be a non-negative integer/],
    [{ retry: Number.NaN }, /'retry' must be a non-negative integer/],
    [{ data: 42 }, /'data' must be a string/],
    [null, /send\(\) takes an event object/],
  ])('send(%j) throws a TypeError and writes nothing', async (event, message) => {
    const rec = recorder()
    let thrown: unknown
    await sse(requestEnv(), (s) => {
      try {
        void s.send(event as unknown as SseEvent)
      } catch (err) {
        thrown = err
      }
    })(rec.respond)
    expect(thrown).toBeInstanceOf(TypeError)
    expect(String(thrown)).toMatch(/^TypeError: sse: /)
    expect(String(thrown)).toMatch(message)
    expect(rec.writes).toEqual([])
  })

  it('comment() of a non-string throws a TypeError', async () => {
    const rec = recorder()
    let thrown: unknown
    await sse(requestEnv(), (s) => {
      try {
        void s.comment(5 as unknown as string)
      } catch (err) {
        thrown = err
      }
    })(rec.respond)
    expect(thrown).toBeInstanceOf(TypeError)
    expect(String(thrown)).toMatch(/sse: comment\(\) takes a string/)
  })
})

// ---------------------------------------------------------------------------------------------
// Options

describe('sse: options', () => {
  const env = requestEnv()
  const handler = () => {}
  it.each([
    [{ heartbeat: -1 }, /sse: option 'heartbeat' must be an integer between 0 and/],
    [{ heartbeat: 1.5 }, /sse: option 'heartbeat' must be an integer/],
    [{ heartbeat: '1000' }, /sse: option 'heartbeat' must be an integer/],
    [{ heartbeat: Number.POSITIVE_INFINITY }, /sse: option 'heartbeat'/],
    [{ heartbeat: 2 ** 31 }, /sse: option 'heartbeat'/],
    [{ headers: 'X-A: 1' }, /sse: option 'headers' must be a flat list/],
    [{ headers: ['X-A'] }, /sse: option 'headers' must be a flat list/],
    [{ headers: ['X-A', 1] }, /sse: option 'headers' must be a flat list/],
    [{ heartbeet: 10 }, /sse: unknown option 'heartbeet' \(known options: heartbeat, headers\)/],
    ['fast', /sse: options must be an object/],
  ])('%j is a TypeError when sse() is called', (options, message) => {
    expect(() => sse(env, handler, options as SseOptions)).toThrow(TypeError)
    expect(() => sse(env, handler, options as SseOptions)).toThrow(message)
  })

  it('a handler that is not a function is a TypeError', () => {
    expect(() => sse(env, 'send' as unknown as () => void)).toThrow(
      new TypeError('sse: handler must be a function'),
    )
  })

  it('an env that is not an object is a TypeError', () => {
    expect(() => sse(undefined as unknown as Env, handler)).toThrow(
      new TypeError('sse: env must be an object'),
    )
  })

  it('options.headers add headers; a name given replaces the default (any case)', async () => {
    const res = await runResponse(
      sse(env, () => {}, { headers: ['cache-control', 'no-store', 'X-Extra', '1', 'X-Extra', '2'] }),
    )
    expect(res.headers).toEqual([
      'Content-Type',
      'text/event-stream; charset=utf-8',
      'X-Accel-Buffering',
      'no',
      'cache-control',
      'no-store',
      'X-Extra',
      '1',
      'X-Extra',
      '2',
    ])
    expect(res.streamed).toBe(true)
  })

  it('the caller’s headers list is not changed, and each response gets its own', async () => {
    const extra = ['X-A', '1']
    const delayed = sse(env, () => {}, { headers: extra })
    const first = await runResponse(delayed)
    first.headers.push('X-B', '2')
    expect(extra).toEqual(['X-A', '1'])
    const again = await runResponse(sse(env, () => {}, { headers: extra }))
    expect(again.headers).not.toContain('X-B')
  })
})

// ---------------------------------------------------------------------------------------------
// Heartbeats, on a fake clock

describe('sse: heartbeats (fake clock)', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('sends ":" after each heartbeat of idleness; every write restarts the wait', async () => {
    vi.useFakeTimers()
    const rec = recorder()
    const finish = deferred()
    let stream!: SseStream
    const done = sse(
      requestEnv(),
      async (s) => {
        stream = s
        await finish.promise
      },
      { heartbeat: 1000 },
    )(rec.respond)
    await vi.advanceTimersByTimeAsync(999)
    expect(rec.writes).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(rec.writes).toEqual([':\n\n'])
    await vi.advanceTimersByTimeAsync(500)
    await stream.send({ data: 'x' })
    await vi.advanceTimersByTimeAsync(999)
    expect(rec.writes).toEqual([':\n\n', 'data: x\n\n'])
    await vi.advanceTimersByTimeAsync(1)
    expect(rec.writes).toEqual([':\n\n', 'data: x\n\n', ':\n\n'])
    await vi.advanceTimersByTimeAsync(3000) // 3500, 4500, 5500
    expect(rec.writes.filter((w) => w === ':\n\n')).toHaveLength(5)
    expect(vi.getTimerCount()).toBe(1)
    finish.resolve()
    await done
    expect(vi.getTimerCount()).toBe(0) // cleared on end
    expect(rec.closed()).toBe(true)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(rec.writes.filter((w) => w === ':\n\n')).toHaveLength(5)
  })

  it('the timer is unref’d: it never keeps the process alive', async () => {
    vi.useFakeTimers()
    const fakeSet = globalThis.setTimeout
    const made: ReturnType<typeof setTimeout>[] = []
    vi.stubGlobal('setTimeout', (fn: () => void, ms: number) => {
      const timer = fakeSet(fn, ms)
      made.push(timer)
      return timer
    })
    try {
      const finish = deferred()
      const done = sse(requestEnv(), () => finish.promise, { heartbeat: 1000 })(recorder().respond)
      expect(made).toHaveLength(1)
      expect(made[0]!.hasRef()).toBe(false)
      finish.resolve()
      await done
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('where timers are numbers (Deno, workerd), each write starts a new one in place of the old', async () => {
    vi.useFakeTimers()
    const fakeSet = globalThis.setTimeout
    const fakeClear = globalThis.clearTimeout
    vi.stubGlobal('setTimeout', (fn: () => void, ms: number) => Number(fakeSet(fn, ms)))
    vi.stubGlobal('clearTimeout', (id: number) => fakeClear(id))
    try {
      const rec = recorder()
      const finish = deferred()
      let stream!: SseStream
      const done = sse(
        requestEnv(),
        async (s) => {
          stream = s
          await finish.promise
        },
        { heartbeat: 1000 },
      )(rec.respond)
      await vi.advanceTimersByTimeAsync(1000)
      expect(rec.writes).toEqual([':\n\n'])
      await vi.advanceTimersByTimeAsync(500)
      await stream.send({ data: 'x' })
      await vi.advanceTimersByTimeAsync(999)
      expect(rec.writes).toEqual([':\n\n', 'data: x\n\n'])
      expect(vi.getTimerCount()).toBe(1)
      await vi.advanceTimersByTimeAsync(1)
      expect(rec.writes).toEqual([':\n\n', 'data: x\n\n', ':\n\n'])
      finish.resolve()
      await done
      expect(vi.getTimerCount()).toBe(0)
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('the default is 15 s', async () => {
    vi.useFakeTimers()
    const rec = recorder()
    const finish = deferred()
    const done = sse(requestEnv(), () => finish.promise)(rec.respond)
    await vi.advanceTimersByTimeAsync(14_999)
    expect(rec.writes).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(rec.writes).toEqual([':\n\n'])
    finish.resolve()
    await done
  })

  it('heartbeat: 0 sets no timer and sends nothing', async () => {
    vi.useFakeTimers()
    const rec = recorder()
    const finish = deferred()
    const done = sse(requestEnv(), () => finish.promise, { heartbeat: 0 })(rec.respond)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(3_600_000)
    expect(rec.writes).toEqual([])
    finish.resolve()
    await done
  })

  it('no heartbeat is sent while a write waits for the client to take it', async () => {
    vi.useFakeTimers()
    const rec = recorder()
    const finish = deferred()
    let stream!: SseStream
    const done = sse(
      requestEnv(),
      async (s) => {
        stream = s
        await finish.promise
      },
      { heartbeat: 100 },
    )(rec.respond)
    rec.hold(true)
    const sent = stream.send({ data: 'slow' })
    await vi.advanceTimersByTimeAsync(1000)
    expect(rec.writes).toEqual(['data: slow\n\n'])
    rec.hold(false)
    rec.release()
    await sent
    await vi.advanceTimersByTimeAsync(100)
    expect(rec.writes).toEqual(['data: slow\n\n', ':\n\n'])
    finish.resolve()
    await done
  })
})

// ---------------------------------------------------------------------------------------------
// Through the harness: in process and on the node server

describe.each(IMPLS)('sse through testApp (%s)', (impl) => {
  it('sends the head at once, then each event as it is sent', async () => {
    const acks = [deferred(), deferred()]
    const app: App = (env) =>
      sse(env, async (s) => {
        await s.send({ id: '1', data: 'first' })
        await acks[0]!.promise
        await s.send({ id: '2', event: 'second', data: 'two\nlines' })
        await acks[1]!.promise
      })
    await testApp(
      app,
      async (fetch, { errors }) => {
        const res = await fetch('/events', { headers: { Accept: 'text/event-stream' } })
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
        expect(res.headers.get('cache-control')).toBe('no-cache')
        expect(res.headers.get('x-accel-buffering')).toBe('no')
        expect(res.headers.get('content-length')).toBeNull()
        const blocks = Blocks.web(res)
        expect(await blocks.next()).toBe('id: 1\ndata: first\n\n')
        acks[0]!.resolve()
        expect(await blocks.next()).toBe('event: second\nid: 2\ndata: two\ndata: lines\n\n')
        acks[1]!.resolve()
        expect(await blocks.rest()).toEqual([])
        expect(errors()).toBe('')
      },
      { impl },
    )
  })

  it('heartbeats arrive while the stream is idle', async () => {
    const app: App = (env) =>
      sse(env, (s) => new Promise((resolve) => s.signal.addEventListener('abort', () => resolve())), {
        heartbeat: 20,
      })
    await testApp(
      app,
      async (fetch) => {
        const ac = new AbortController()
        const res = await fetch('/', { signal: ac.signal })
        const blocks = Blocks.web(res)
        expect(await blocks.next()).toBe(':\n\n')
        expect(await blocks.next()).toBe(':\n\n')
        ac.abort()
      },
      { impl },
    )
  })

  it('stream.lastEventId is the Last-Event-ID header, UTF-8 decoded; undefined without one', async () => {
    const app: App = (env) => sse(env, (s) => s.send({ data: JSON.stringify(s.lastEventId ?? null) }))
    await testApp(
      app,
      async (fetch) => {
        const text = async (headers: Record<string, string>) => (await fetch('/', { headers })).text()
        expect(await text({ 'Last-Event-ID': '41' })).toBe('data: "41"\n\n')
        expect(await text({})).toBe('data: null\n\n')
        // a browser sends the id as UTF-8: one char per byte in the env
        const utf8 = Buffer.from('é-😀', 'utf8').toString('latin1')
        expect(await text({ 'Last-Event-ID': utf8 })).toBe('data: "é-😀"\n\n')
        // bytes that are not UTF-8 are kept as they came
        expect(await text({ 'Last-Event-ID': '\xe9' })).toBe('data: "é"\n\n')
      },
      { impl },
    )
  })

  it('a client leaving aborts stream.signal and rejects the pending send and later ones', async () => {
    const pending = deferred()
    const outcome = deferred<{ pending: unknown; later: unknown; aborted: boolean; reason: unknown }>()
    const app: App = (env) =>
      sse(env, async (s) => {
        await s.send({ data: 'first' })
        // far more than the client's and the kernel's buffers hold: it waits for the client
        const big = s.send({ data: 'x'.repeat(32 * 2 ** 20) })
        pending.resolve()
        const failed = await big.then(
          () => 'resolved',
          (err: unknown) => err,
        )
        const later = await s.send({ data: 'later' }).then(
          () => 'resolved',
          (err: unknown) => err,
        )
        outcome.resolve({ pending: failed, later, aborted: s.signal.aborted, reason: s.signal.reason })
      })
    await testApp(
      app,
      async (fetch, { errors }) => {
        const ac = new AbortController()
        const res = await fetch('/', { signal: ac.signal })
        const blocks = Blocks.web(res)
        expect(await blocks.next()).toBe('data: first\n\n')
        await pending.promise
        ac.abort()
        const seen = await outcome.promise
        expect(seen.pending).toBeInstanceOf(Error)
        expect(seen.later).toBeInstanceOf(Error)
        expect(seen).toMatchObject({ aborted: true, reason: 'client-disconnected' })
        expect(errors()).toBe('')
      },
      { impl },
    )
  })

  it('a handler ended by the rejection of a send after the client left is not reported', async () => {
    const ended = deferred<unknown>()
    const app: App = (env) => {
      const delayed = sse(env, async (s) => {
        for (let i = 0; ; i++) await s.send({ id: String(i), data: 'x'.repeat(1024) })
      })
      return (respond) => {
        const done = Promise.resolve(delayed(respond))
        done.then(
          () => ended.resolve('resolved'),
          (err: unknown) => ended.resolve(err),
        )
        return done
      }
    }
    await testApp(
      app,
      async (fetch, { errors }) => {
        const ac = new AbortController()
        const res = await fetch('/', { signal: ac.signal })
        const blocks = Blocks.web(res)
        expect(await blocks.next()).toMatch(/^id: 0\n/)
        ac.abort()
        expect(await ended.promise).toBeInstanceOf(Error)
        // the server takes the rejection in the same turn; let it run before looking
        await new Promise((resolve) => setImmediate(resolve))
        expect(errors()).toBe('')
      },
      { impl },
    )
  })

  it('stream.signal aborts with "ended" once the handler returned; a later send rejects', async () => {
    let kept: SseStream | undefined
    const app: App = (env) =>
      sse(env, async (s) => {
        kept = s
        expect(s.signal.aborted).toBe(false)
        await s.send({ data: 'only' })
      })
    await testApp(
      app,
      async (fetch) => {
        expect(await (await fetch('/')).text()).toBe('data: only\n\n')
        expect(kept?.signal.aborted).toBe(true)
        expect(kept?.signal.reason).toBe('ended')
        await expect(kept!.send({ data: 'late' })).rejects.toThrow('sse: send() after the stream ended')
      },
      { impl },
    )
  })

  it('a handler that throws cuts the response and is reported with the request line', async () => {
    const app: App = (env) =>
      sse(env, async (s) => {
        await s.send({ data: 'first' })
        throw new Error('handler broke')
      })
    await testApp(
      app,
      async (fetch, { errors }) => {
        const res = await fetch('/broken?x=1')
        expect(res.status).toBe(200)
        const blocks = Blocks.web(res)
        expect(await blocks.next()).toBe('data: first\n\n')
        await expect(blocks.next()).rejects.toThrow()
        expect(errors()).toMatch(/GET \/broken\?x=1: Error: handler broke/)
      },
      { impl },
    )
  })

  it('a HEAD request gets the head alone; the handler is not called', async () => {
    let calls = 0
    const app: App = (env) =>
      sse(env, () => {
        calls++
      })
    await testApp(
      app,
      async (fetch) => {
        const res = await fetch('/', { method: 'HEAD' })
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
        expect(await res.text()).toBe('')
        expect(calls).toBe(0)
      },
      { impl },
    )
  })
})

// ---------------------------------------------------------------------------------------------
// The node server, raw

describe('sse on the node server', () => {
  it('streams chunked over HTTP/1.1; the handler returning ends the body cleanly', async () => {
    const ack = deferred()
    const { port, errors } = await start((env) =>
      sse(env, async (s) => {
        await s.send({ id: '1', data: 'a' })
        await ack.promise
      }),
    )
    const socket = await rawConnect(port)
    socket.write('GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n')
    const head = await readUntil(socket, /id: 1\r?\ndata: a\n\n\r\n/)
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(head).toMatch(/\r\nTransfer-Encoding: chunked\r\n/i)
    expect(head).toMatch(/\r\nContent-Type: text\/event-stream; charset=utf-8\r\n/)
    expect(head).toMatch(/\r\nX-Accel-Buffering: no\r\n/)
    const ended = readUntil(socket, /0\r\n\r\n$/)
    ack.resolve()
    await ended
    socket.destroy()
    expect(errors.text).toBe('')
  })

  it('a handler that throws: the chunked body is cut without its last chunk, the connection closed', async () => {
    const { port, errors } = await start((env) =>
      sse(env, async (s) => {
        await s.send({ data: 'a' })
        throw new Error('late failure')
      }),
    )
    const socket = await rawConnect(port)
    const parts: Buffer[] = []
    socket.on('data', (d: Buffer) => parts.push(d))
    socket.write('GET /fails HTTP/1.1\r\nHost: x\r\n\r\n')
    await once(socket, 'close')
    const raw = Buffer.concat(parts).toString()
    expect(raw).toMatch(/data: a\n\n\r\n$/)
    expect(raw).not.toMatch(/0\r\n\r\n$/)
    await errors.waitFor(/GET \/fails: Error: late failure/)
  })
})

// ---------------------------------------------------------------------------------------------
// Behind Deflater

describe('sse behind Deflater', () => {
  it('gzip: each event arrives, decompressed, before the next one is sent; heartbeats too', async () => {
    const acks = [deferred(), deferred(), deferred()]
    const heartbeatSeen = deferred()
    const inner: App = (env) =>
      sse(
        env,
        async (s) => {
          for (let i = 0; i < 3; i++) {
            await s.send({ id: String(i + 1), data: `event ${i + 1}` })
            await acks[i]!.promise
          }
          await heartbeatSeen.promise
        },
        { heartbeat: 20 },
      )
    const { url, errors } = await start(builder(enable('Deflater'), inner))
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(
          `${url}/events`,
          { headers: { 'Accept-Encoding': 'gzip', Accept: 'text/event-stream' } },
          resolve,
        )
        .on('error', reject)
    })
    expect(res.headers['content-encoding']).toBe('gzip')
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.vary).toBe('Accept-Encoding')
    const gunzip = zlib.createGunzip()
    res.pipe(gunzip)
    const blocks = Blocks.node(gunzip)
    for (let i = 0; i < 3; i++) {
      expect(await blocks.event()).toBe(`id: ${i + 1}\ndata: event ${i + 1}\n\n`)
      acks[i]!.resolve()
    }
    expect(await blocks.next()).toBe(':\n\n')
    heartbeatSeen.resolve()
    expect((await blocks.rest()).filter((b) => b !== ':\n\n')).toEqual([])
    expect(errors.text).toBe('')
  })
})

// ---------------------------------------------------------------------------------------------
// HTTP/2

describe('sse over HTTP/2 (h2c)', () => {
  const servers: Http2TsgiServer[] = []
  const clients: { close(): Promise<void> }[] = []
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
    await Promise.all(servers.splice(0).map((s) => s.close()))
  })
  async function h2(app: App) {
    const errors = new ErrorSink()
    const server = await serveHttp2(app, { port: 0, host: '127.0.0.1', errors, shutdownTimeout: 1000 })
    servers.push(server)
    const client = remoteHttp2Fetch(server.url)
    clients.push(client)
    return { fetch: client.fetch, errors }
  }

  it('streams events one by one, with heartbeats; a stream reset aborts the signal', async () => {
    const ack = deferred()
    const outcome = deferred<{ reason: unknown; protocol: unknown }>()
    const { fetch, errors } = await h2((env) =>
      sse(
        env,
        async (s) => {
          await s.send({ id: '1', data: 'one' })
          await ack.promise
          await s.send({ id: '2', data: 'two' })
          await new Promise((resolve) => s.signal.addEventListener('abort', resolve))
          outcome.resolve({ reason: s.signal.reason, protocol: env.SERVER_PROTOCOL })
        },
        { heartbeat: 20 },
      ),
    )
    const res = await fetch('/events', { headers: { 'Last-Event-ID': '0' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    const blocks = Blocks.web(res)
    expect(await blocks.event()).toBe('id: 1\ndata: one\n\n')
    ack.resolve()
    expect(await blocks.event()).toBe('id: 2\ndata: two\n\n')
    expect(await blocks.next()).toBe(':\n\n')
    await blocks.cancel()
    expect(await outcome.promise).toEqual({ reason: 'client-disconnected', protocol: 'HTTP/2' })
    expect(errors.text).toBe('')
  })

  it('a handler that throws resets the stream and is reported', async () => {
    const { fetch, errors } = await h2((env) =>
      sse(env, async (s) => {
        await s.send({ data: 'a' })
        throw new Error('h2 failure')
      }),
    )
    const res = await fetch('/h2fail')
    const blocks = Blocks.web(res)
    expect(await blocks.next()).toBe('data: a\n\n')
    await expect(blocks.next()).rejects.toThrow()
    await errors.waitFor(/GET \/h2fail: Error: h2 failure/)
  })
})

// ---------------------------------------------------------------------------------------------
// Behind nginx

describe('sse behind nginx', () => {
  const skip = skipNginx('SSE behind nginx')
  const stops: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop()
  })

  // With its response buffering on (the default), nginx 1.22 passes plain events on as it reads
  // them, but flushes no output filter that collects (gzip): there X-Accel-Buffering: no (nginx
  // then flushes every read) is what makes the events arrive at all.
  it.skipIf(skip).each([
    ['plain', '', undefined],
    ['nginx gzip on', 'gzip on; gzip_types text/event-stream; gzip_min_length 0;', 'gzip'],
  ])(
    '%s: each event arrives before the next is sent; the client leaving reaches the app',
    async (_name, extra, coding) => {
      const acks = [deferred(), deferred(), deferred()]
      const outcome = deferred<unknown>()
      const { url } = await start((env) =>
        sse(env, async (s) => {
          for (let i = 0; i < 3; i++) {
            await s.send({ id: String(i + 1), data: `event ${i + 1}` })
            await acks[i]!.promise
          }
          await new Promise((resolve) => s.signal.addEventListener('abort', resolve))
          outcome.resolve(s.signal.reason)
        }),
      )
      const nginx = await startNginx({ upstream: url, extra })
      stops.push(nginx.stop)
      const req = http.get(`${nginx.url}/events`, {
        headers: { Accept: 'text/event-stream', 'Accept-Encoding': coding ?? 'identity' },
      })
      const [res] = (await once(req, 'response')) as [http.IncomingMessage]
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8')
      expect(res.headers['content-encoding']).toBe(coding)
      // nginx takes X-Accel-* for itself
      expect(res.headers['x-accel-buffering']).toBeUndefined()
      const blocks = Blocks.node(coding ? res.pipe(zlib.createGunzip()) : res)
      for (let i = 0; i < 3; i++) {
        expect(await blocks.event()).toBe(`id: ${i + 1}\ndata: event ${i + 1}\n\n`)
        acks[i]!.resolve()
      }
      req.destroy()
      expect(await outcome.promise).toBe('client-disconnected')
    },
  )
})
