/**
 * The conformance cases on the protocol around a response: header values the transport cannot
 * carry or must send as single octets, interim statuses as final responses, a second
 * `respond()`, the signal after refused heads and departed clients, and connections that must
 * stay usable after bodyless, refused and unread-body responses.
 */
import assert from 'node:assert/strict'
import type { HeaderList } from '../types.js'
import { expectPost, post, postReason, type SuiteCase, TOKEN_HEADER, text, tokened } from './suite-support.js'

export const protocolCases: SuiteCase[] = [
  {
    name: 'a header value above U+00FF is refused',
    app: () => [200, ['Content-Type', 'text/plain', 'X-Snow', 'snow \u2603'], ['never sent']],
    async check(fetch, ctx) {
      const res = await fetch('/')
      assert.equal(res.status, 500)
      if (ctx.protocol === 'http1') assert.equal(res.statusText, 'Internal Server Error')
      assert.equal(res.headers.get('x-snow'), null)
      assert.equal(await res.text(), 'Internal Server Error')
      assert.match(ctx.errors(), /X-Snow/)
      assert.equal(await (await fetch('/')).text(), 'Internal Server Error')
    },
  },
  {
    name: 'obs-text in header values and the reason phrase goes out as single octets',
    app: (env) => {
      env['tsgix.reason_phrase'] = 'Caf\u00e9'
      const headers: HeaderList = ['Content-Type', 'text/plain', 'X-Obs', 'caf\u00e9']
      if (env.PATH_INFO === '/writer') {
        return async (respond) => {
          const writer = respond([200, headers])
          await writer.write('ok')
          await writer.close()
        }
      }
      if (env.PATH_INFO === '/length') {
        return [
          200,
          [...headers, 'Content-Length', '2'],
          (async function* () {
            yield 'ok'
          })(),
        ]
      }
      return [200, headers, ['ok']]
    },
    async check(fetch) {
      for (const path of ['/array', '/writer', '/length']) {
        const res = await fetch(path)
        assert.equal(res.headers.get('x-obs'), 'caf\u00e9', path)
        assert.equal(await res.text(), 'ok', path)
      }
    },
  },
  {
    name: 'an interim (1xx) status as the final response is refused',
    app: (env) => {
      if (env.PATH_INFO === '/writer') {
        return (respond) => {
          void respond([103, ['Link', '</a.css>; rel=preload']]).close()
        }
      }
      return [101, ['Upgrade', 'nothing'], []]
    },
    async check(fetch, ctx) {
      for (const path of ['/triple', '/writer']) {
        const res = await fetch(path)
        assert.equal(res.status, 500, path)
        assert.equal(await res.text(), 'Internal Server Error', path)
      }
      assert.match(ctx.errors(), /10[13]/)
    },
  },
  {
    name: 'a second respond() throws and sends nothing',
    app: (env) => (respond) => {
      respond(text('first'))
      try {
        respond(text('second'))
        post(env, 'returned')
      } catch (err) {
        post(env, err instanceof Error ? 'threw' : 'threw a non-error')
      }
    },
    async check(fetch) {
      const { res, posted } = await tokened(fetch, '/')
      assert.equal(await res.text(), 'first')
      assert.equal(await posted, 'threw')
    },
  },
  {
    name: 'an invalid head aborts tsgix.signal with server-error',
    app: (env) => {
      postReason(env)
      return [200, ['X-Bad', 'a\nb'], ['never sent']]
    },
    async check(fetch) {
      const { res, posted } = await tokened(fetch, '/')
      assert.equal(res.status, 500)
      await res.arrayBuffer()
      assert.equal(await posted, 'server-error')
    },
  },
  {
    name: 'Writer.close resolves and does nothing after the client left',
    app: (env) => async (respond) => {
      const writer = respond([200, ['Content-Type', 'text/plain']])
      await writer.write('first')
      const signal = env['tsgix.signal']
      if (signal && !signal.aborted)
        await new Promise((r) => signal.addEventListener('abort', r, { once: true }))
      const write = await writer.write('late').then(
        () => 'resolved',
        () => 'rejected',
      )
      const close = await writer.close().then(
        () => 'resolved',
        () => 'rejected',
      )
      post(env, [write, close])
    },
    async check(fetch) {
      const client = new AbortController()
      const { token, posted } = expectPost()
      const res = await fetch('/', { headers: { [TOKEN_HEADER]: token }, signal: client.signal })
      const reader = res.body?.getReader()
      assert.ok(reader)
      assert.equal(new TextDecoder().decode((await reader.read()).value), 'first')
      client.abort()
      await reader.cancel().catch(() => {})
      assert.deepEqual(await posted, ['rejected', 'resolved'])
    },
  },
  {
    name: 'the connection serves the next request after bodyless, refused and unread-body responses',
    app: (env) => {
      const p = env.PATH_INFO
      if (p === '/304') return [304, ['ETag', '"x"'], ['ignored']]
      if (p === '/204') return [204, [], ['ignored']]
      if (p === '/bad') return [200, ['X-Bad', 'a\rb'], ['never sent']]
      if (p === '/stream')
        return [
          200,
          ['Content-Type', 'text/plain'],
          (async function* () {
            yield 'streamed'
          })(),
        ]
      return text(`at ${p}`)
    },
    async check(fetch) {
      const steps: [string, RequestInit, number, string][] = [
        ['/head', { method: 'HEAD' }, 200, ''],
        ['/a', {}, 200, 'at /a'],
        ['/304', {}, 304, ''],
        ['/b', {}, 200, 'at /b'],
        ['/204', {}, 204, ''],
        ['/stream', {}, 200, 'streamed'],
        ['/bad', {}, 500, 'Internal Server Error'],
        ['/unread', { method: 'POST', body: 'x'.repeat(200_000) }, 200, 'at /unread'],
        ['/c', {}, 200, 'at /c'],
      ]
      for (const [path, init, status, body] of steps) {
        const res = await fetch(path, init)
        assert.equal(res.status, status, path)
        assert.equal(await res.text(), body, path)
      }
    },
  },
]
