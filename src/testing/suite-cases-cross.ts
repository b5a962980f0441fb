/**
 * The conformance cases every transport must pass alike, whatever its protocol: an
 * `HttpError` answered with its standard phrase, node file streams sent as the streams they
 * are, failures after the head that leave the response visibly cut off, bodies and writers
 * stopped when the client leaves, and an invalid `tsgix.reason_phrase` refused as an
 * invalid response. They hold no assertion on a custom reason phrase, which only HTTP/1.x
 * can carry.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createReadStream } from 'node:fs'
import { unlink } from 'node:fs/promises'
import { HttpError } from '../http-error.js'
import type { Env, HeaderList, Triple } from '../types.js'
import type { TestFetch } from './harness.js'
import {
  aborted,
  bytes,
  expectPost,
  hand,
  pattern,
  post,
  postReason,
  received,
  type SuiteCase,
  sha256,
  TOKEN_HEADER,
  tokened,
  withTempFile,
} from './suite-support.js'

const decoder = new TextDecoder()

/** Asserts an error answer the server made up: `status`, its standard phrase as text/plain. */
async function plainAnswer(res: globalThis.Response, status: number, phrase: string, what: string) {
  assert.equal(res.status, status, what)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain\b/, what)
  assert.equal(await res.text(), phrase, what)
}

/** A promise the check settles: an app awaits it so that it acts only once the client has read. */
function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

/** What the check handed the app as its gate (settled at once when nothing was handed). */
function gateOf(env: Env): Promise<unknown> {
  return Promise.resolve(received(env))
}

/** Reads `reader` to its end; whether the read failed, and the bytes that came before. */
async function readRest(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<{ received: Buffer; failed: boolean }> {
  const parts: Uint8Array[] = []
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { received: Buffer.concat(parts), failed: false }
      parts.push(value)
    }
  } catch {
    return { received: Buffer.concat(parts), failed: true }
  }
}

/**
 * Fetches `path` from an app that sends its head and a chunk `first`, waits on the gate, then
 * fails. Asserts the head and the first chunk arrived and that the rest of the body cannot be
 * read to a clean end. Gives the whole body received, the declared length, and what the app
 * posted.
 */
async function cutAfterHead(
  fetch: TestFetch,
  path: string,
): Promise<{ body: Buffer; length: string | null; posted: unknown }> {
  const { token, posted } = expectPost()
  const { opened, open } = gate()
  hand(token, opened)
  const res = await fetch(path, { headers: { [TOKEN_HEADER]: token } })
  assert.equal(res.status, 200, path)
  const reader = res.body?.getReader()
  assert.ok(reader, path)
  const first = await reader.read()
  assert.equal(decoder.decode(first.value), 'first', path)
  open()
  const rest = await readRest(reader)
  assert.ok(
    rest.failed,
    `${path}: the body ended cleanly after ${rest.received.length} more bytes; it must fail`,
  )
  return {
    body: Buffer.concat([first.value ?? new Uint8Array(), rest.received]),
    length: res.headers.get('content-length'),
    posted: await posted,
  }
}

/** Asserts what {@link cutAfterHead} saw for the `/chunked` and `/length` (100 bytes declared) paths. */
async function checkCutOff(fetch: TestFetch, message: RegExp, errors: () => string): Promise<void> {
  for (const path of ['/chunked', '/length']) {
    const { body, length, posted } = await cutAfterHead(fetch, path)
    assert.match(body.toString(), /^first/, path)
    if (path === '/length') {
      assert.equal(length, '100', path)
      assert.ok(body.length < 100, `${path}: got ${body.length} of the 100 bytes declared`)
    }
    assert.equal(posted, 'server-error', path)
  }
  assert.match(errors(), message)
}

/** The head of a response that fails after it: on `/length` it declares 100 bytes it never sends. */
function failingHead(env: Env): HeaderList {
  const headers = ['Content-Type', 'text/plain']
  return env.PATH_INFO === '/length' ? [...headers, 'Content-Length', '100'] : headers
}

/**
 * Collects `count` notes from an app and posts them, sorted, once all are in: for events
 * whose order the spec leaves open (a body's `finally` block and the cleanup handlers).
 */
function notes(env: Env, count: number): (note: string) => void {
  const seen: string[] = []
  return (note) => {
    seen.push(note)
    if (seen.length === count) post(env, seen.sort())
  }
}

/** Registers a cleanup handler that notes the signal's reason. */
function noteCleanup(env: Env, note: (note: string) => void): void {
  env['tsgix.cleanup.handlers']?.push((e) => note(`cleanup: ${String(e['tsgix.signal']?.reason)}`))
}

/** Fetches `/`, reads one chunk of the body, then leaves; gives what the app posted. */
async function leaveAfterFirstChunk(fetch: TestFetch): Promise<unknown> {
  const { token, posted } = expectPost()
  const client = new AbortController()
  const res = await fetch('/', { headers: { [TOKEN_HEADER]: token }, signal: client.signal })
  assert.equal(res.status, 200)
  const reader = res.body?.getReader()
  assert.ok(reader)
  const first = await reader.read()
  assert.equal(first.done, false)
  client.abort()
  await reader.cancel().catch(() => {})
  return posted
}

export const crossServerCases: SuiteCase[] = [
  {
    name: 'an HttpError is answered with its standard phrase, not its message',
    app: (env) => {
      const err = new HttpError(404, 'no such user')
      if (env.PATH_INFO === '/reject') return Promise.reject(err)
      if (env.PATH_INFO === '/delayed') {
        return () => {
          throw err
        }
      }
      throw err
    },
    async check(fetch) {
      for (const path of ['/throw', '/reject', '/delayed']) {
        await plainAnswer(await fetch(path), 404, 'Not Found', path)
      }
    },
  },
  {
    name: 'an HttpError with headers sends them with its status',
    app: () => {
      throw new HttpError(405, 'only GET and HEAD here', { headers: ['Allow', 'GET, HEAD'] })
    },
    async check(fetch) {
      const res = await fetch('/', { method: 'POST', body: 'x' })
      assert.equal(res.headers.get('allow'), 'GET, HEAD')
      await plainAnswer(res, 405, 'Method Not Allowed', 'POST /')
    },
  },
  {
    name: 'an HttpError of 500 or more is logged and answered with its standard phrase',
    app: () => {
      throw new HttpError(503, 'db down')
    },
    async check(fetch, ctx) {
      await plainAnswer(await fetch('/'), 503, 'Service Unavailable', 'GET /')
      assert.match(ctx.errors(), /db down/)
    },
  },
  {
    name: 'an fs.createReadStream body sends the bytes of its file and is closed afterwards',
    app: (env) => {
      const stream = createReadStream(String(received(env)))
      stream.once('close', () => post(env, { event: 'close', destroyed: stream.destroyed }))
      // A server that iterated the stream to its end has destroyed it by now: report one
      // left open (and close it) rather than wait for a 'close' that will never come.
      env['tsgix.cleanup.handlers']?.push((e) => {
        if (stream.destroyed) return
        post(e, { event: 'cleanup handlers ran with the stream still open', destroyed: false })
        stream.destroy()
      })
      return [200, ['Content-Type', 'application/octet-stream'], stream]
    },
    async check(fetch) {
      const data = pattern(300_000)
      await withTempFile(data, async (path) => {
        const { token, posted } = expectPost()
        hand(token, path)
        const res = await fetch('/', { headers: { [TOKEN_HEADER]: token } })
        assert.equal(res.status, 200)
        const body = await bytes(res)
        assert.equal(body.length, data.length)
        assert.equal(sha256(body), sha256(data))
        assert.deepEqual(await posted, { event: 'close', destroyed: true })
      })
    },
  },
  {
    name: 'an fs.createReadStream range body sends exactly its slice',
    app: (env): Triple => {
      const stream = createReadStream(String(received(env)), { start: 1000, end: 70_999 })
      return [200, ['Content-Type', 'application/octet-stream'], stream]
    },
    async check(fetch) {
      const data = pattern(200_000)
      await withTempFile(data, async (path) => {
        const { token } = expectPost()
        hand(token, path)
        const res = await fetch('/', { headers: { [TOKEN_HEADER]: token } })
        assert.equal(res.status, 200)
        const body = await bytes(res)
        assert.equal(body.length, 70_000)
        assert.equal(sha256(body), sha256(data.subarray(1000, 71_000)))
      })
    },
  },
  {
    name: 'an fs.createReadStream body is read from its open file, not reopened by its path',
    app: async (env): Promise<Triple> => {
      const path = String(received(env))
      const stream = createReadStream(path)
      await once(stream, 'open')
      // The stream holds the file open: its bytes stay readable through it, not by the path.
      await unlink(path)
      return [200, ['Content-Type', 'application/octet-stream'], stream]
    },
    async check(fetch, ctx) {
      const data = pattern(100_000)
      await withTempFile(data, async (path) => {
        const { token } = expectPost()
        hand(token, path)
        const res = await fetch('/', { headers: { [TOKEN_HEADER]: token } })
        assert.equal(res.status, 200, ctx.errors())
        assert.equal(sha256(await bytes(res)), sha256(data))
      })
    },
  },
  {
    name: 'an iterable body that throws after the head leaves the response cut off',
    app: (env) => {
      postReason(env)
      const opened = gateOf(env)
      async function* body() {
        yield 'first'
        await opened
        yield 'second'
        throw new Error('the body broke after its head')
      }
      return [200, failingHead(env), body()]
    },
    async check(fetch, ctx) {
      await checkCutOff(fetch, /the body broke after its head/, ctx.errors)
    },
  },
  {
    name: 'a delayed response that rejects after its head leaves the response cut off',
    app: (env) => async (respond) => {
      postReason(env)
      const writer = respond([200, failingHead(env)])
      await writer.write('first')
      await gateOf(env)
      throw new Error('the writer app failed after its head')
    },
    async check(fetch, ctx) {
      await checkCutOff(fetch, /the writer app failed after its head/, ctx.errors)
    },
  },
  {
    name: 'a never-ending iterable body is returned when the client leaves',
    app: (env) => {
      const signal = env['tsgix.signal']
      const note = notes(env, 2)
      noteCleanup(env, note)
      async function* body() {
        try {
          yield 'first'
          await aborted(signal)
        } finally {
          note(`finally: ${String(signal?.reason)}`)
        }
      }
      return [200, ['Content-Type', 'text/plain'], body()]
    },
    async check(fetch) {
      assert.deepEqual(await leaveAfterFirstChunk(fetch), [
        'cleanup: client-disconnected',
        'finally: client-disconnected',
      ])
    },
  },
  {
    name: 'a writer loop sees write() reject when the client leaves',
    app: (env) => async (respond) => {
      const note = notes(env, 2)
      noteCleanup(env, note)
      const writer = respond([200, ['Content-Type', 'application/octet-stream']])
      const chunk = new Uint8Array(16 * 1024).fill(46)
      try {
        for (;;) await writer.write(chunk)
      } catch (err) {
        const kind = err instanceof Error ? 'an Error' : typeof err
        note(`write rejected with ${kind}: ${String(env['tsgix.signal']?.reason)}`)
      }
    },
    async check(fetch) {
      assert.deepEqual(await leaveAfterFirstChunk(fetch), [
        'cleanup: client-disconnected',
        'write rejected with an Error: client-disconnected',
      ])
    },
  },
  {
    name: 'an invalid tsgix.reason_phrase makes the response invalid: 500, nothing of its head sent',
    app: (env) => {
      postReason(env)
      env['tsgix.reason_phrase'] = 'bad\r\nX-Evil: 1'
      const headers = ['Content-Type', 'text/html', 'X-App', 'yes']
      if (env.PATH_INFO === '/writer') {
        return async (respond) => {
          const writer = respond([200, headers])
          await writer.write('never sent').catch(() => {})
          await writer.close()
        }
      }
      if (env.PATH_INFO === '/stream') {
        return [
          200,
          headers,
          (async function* () {
            yield 'never sent'
          })(),
        ]
      }
      return [200, headers, ['never sent']]
    },
    async check(fetch, ctx) {
      for (const path of ['/array', '/stream', '/writer']) {
        const { res, posted } = await tokened(fetch, path)
        assert.equal(res.status, 500, path)
        assert.equal(res.headers.get('x-evil'), null, path)
        assert.equal(res.headers.get('x-app'), null, path)
        await plainAnswer(res, 500, 'Internal Server Error', path)
        assert.equal(await posted, 'server-error', path)
      }
      assert.match(ctx.errors(), /tsgix\.reason_phrase/)
    },
  },
]
