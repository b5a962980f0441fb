/**
 * The conformance cases on framing: a declared Content-Length the body must match,
 * Transfer-Encoding beside Content-Length, and byte views and lone surrogates in bodies.
 */
import assert from 'node:assert/strict'
import type { Triple } from '../types.js'
import {
  bytes,
  expectPost,
  type PathFetch,
  post,
  postReason,
  type SuiteCase,
  TOKEN_HEADER,
} from './suite-support.js'

/** A body of 'abc' then 'defgh', as a generator. */
async function* twoChunks(): AsyncGenerator<string> {
  yield 'abc'
  yield 'defgh'
}

/**
 * Fetches `path` and asserts the client cannot take the response for complete: a clean 500
 * (the head was not out yet), a connection cut before the head, or a body that fails. Gives
 * what the app posted.
 */
async function failedResponse(fetch: PathFetch, path: string): Promise<unknown> {
  const { token, posted } = expectPost()
  const res = await fetch(path, { headers: { [TOKEN_HEADER]: token } }).catch(() => undefined)
  if (res?.status === 200) await assert.rejects(res.arrayBuffer(), path)
  else if (res !== undefined) assert.equal(res.status, 500, path)
  return posted
}

/** A view of `inner` inside a larger buffer, with other bytes on both sides. */
function view(inner: string): Uint8Array {
  const outer = Buffer.from(`XX${inner}YY`)
  return new Uint8Array(outer.buffer, outer.byteOffset + 2, Buffer.byteLength(inner))
}

export const framingCases: SuiteCase[] = [
  {
    name: 'an array body that does not match its Content-Length is refused',
    app: (env): Triple => [200, ['Content-Length', env.PATH_INFO === '/short' ? '10' : '2'], ['abcdef']],
    async check(fetch, ctx) {
      for (const path of ['/short', '/long']) {
        const res = await fetch(path)
        assert.equal(res.status, 500, path)
        assert.equal(await res.text(), 'Internal Server Error', path)
      }
      assert.match(ctx.errors(), /Content-Length/)
    },
  },
  {
    name: 'a streamed body longer or shorter than its Content-Length fails',
    app: (env) => {
      postReason(env)
      const length = env.PATH_INFO === '/long' ? '5' : '20'
      return [200, ['Content-Type', 'text/plain', 'Content-Length', length], twoChunks()]
    },
    async check(fetch, ctx) {
      for (const path of ['/long', '/short']) {
        assert.equal(await failedResponse(fetch, path), 'server-error', path)
      }
      assert.match(ctx.errors(), /Content-Length/)
    },
  },
  {
    name: 'a writer body that does not match its Content-Length fails',
    app: (env) => async (respond) => {
      const long = env.PATH_INFO === '/long'
      const writer = respond([200, ['Content-Type', 'text/plain', 'Content-Length', '5']])
      const settle = (p: Promise<void>) =>
        p.then(
          () => 'resolved',
          () => 'rejected',
        )
      const first = await settle(writer.write('abc'))
      const second = long ? await settle(writer.write('defgh')) : await settle(writer.close())
      post(env, [first, second, env['tsgix.signal']?.reason])
    },
    async check(fetch) {
      for (const path of ['/long', '/short']) {
        assert.deepEqual(await failedResponse(fetch, path), ['resolved', 'rejected', 'server-error'], path)
      }
    },
  },
  {
    name: 'Transfer-Encoding beside Content-Length: chunked framing, one length header at most',
    app: (env) => {
      const headers = ['Content-Type', 'text/plain', 'Content-Length', '3', 'Transfer-Encoding', 'chunked']
      return [200, headers, env.PATH_INFO === '/stream' ? twoChunks() : ['abc']]
    },
    async check(fetch) {
      for (const [path, body] of [
        ['/array', 'abc'],
        ['/stream', 'abcdefgh'],
      ] as const) {
        const res = await fetch(path)
        assert.equal(res.headers.get('content-length'), null, path)
        assert.equal(await res.text(), body, path)
      }
    },
  },
  {
    name: 'a Uint8Array view sends only its own bytes',
    app: (env) => {
      if (env.PATH_INFO === '/array') return [200, ['Content-Type', 'text/plain'], [view('hello')]]
      if (env.PATH_INFO === '/iterable') {
        return [
          200,
          ['Content-Type', 'text/plain'],
          (async function* () {
            yield view('hello')
          })(),
        ]
      }
      return async (respond) => {
        const writer = respond([200, ['Content-Type', 'text/plain']])
        await writer.write(view('hello'))
        await writer.close()
      }
    },
    async check(fetch) {
      for (const path of ['/array', '/iterable', '/writer']) {
        const res = await fetch(path)
        assert.equal(await res.text(), 'hello', path)
      }
      assert.equal((await fetch('/array')).headers.get('content-length'), '5')
    },
  },
  {
    name: 'a lone surrogate in a string body goes out as U+FFFD, counted as such',
    app: () => [200, ['Content-Type', 'text/plain; charset=utf-8'], ['a\ud800b']],
    async check(fetch) {
      const res = await fetch('/')
      assert.equal(res.headers.get('content-length'), '5')
      assert.deepEqual(await bytes(res), Buffer.from('a\ufffdb'))
    },
  },
]
