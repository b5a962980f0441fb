/**
 * The conformance cases on response heads: status lines, headers, and the responses that have no body.
 */
import assert from 'node:assert/strict'
import { type SuiteCase, text } from './suite-support.js'

export const responseHeadCases: SuiteCase[] = [
  {
    name: 'status line',
    // HTTP/2 has no reason phrase.
    protocols: ['http1'],
    app: () => text('1'),
    async check(fetch) {
      const res = await fetch('/')
      assert.equal(`${res.status} ${res.statusText}`, '200 OK')
    },
  },
  {
    name: 'multi headers (response)',
    app: () => text('hi', 200, ['X-Foo', 'foo', 'X-Foo', 'bar, baz']),
    async check(fetch) {
      assert.match((await fetch('/')).headers.get('x-foo') ?? '', /foo,\s*bar,\s*baz/)
    },
  },
  {
    name: 'no entity headers on 304',
    app: () => [304, [], []],
    async check(fetch) {
      const res = await fetch('/')
      assert.equal(res.status, 304)
      assert.equal(await res.text(), '')
      assert.equal(res.headers.get('content-type'), null)
      assert.equal(res.headers.get('content-length'), null)
      assert.equal(res.headers.get('transfer-encoding'), null)
    },
  },
  {
    name: 'test 404',
    app: () => text('Not Found', 404),
    async check(fetch) {
      const res = await fetch('/')
      assert.equal(res.status, 404)
      assert.equal(await res.text(), 'Not Found')
    },
  },
  {
    name: 'no body for 204',
    app: () => [204, ['X-A', '1'], ['ignored']],
    async check(fetch) {
      const res = await fetch('/')
      assert.equal(res.status, 204)
      assert.equal(res.headers.get('x-a'), '1')
      assert.equal(await res.text(), '')
    },
  },
  {
    name: 'no body for HEAD',
    app: () => text('Hello'),
    async check(fetch) {
      const res = await fetch('/', { method: 'HEAD' })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/plain')
      assert.equal(await res.text(), '')
    },
  },
  {
    name: 'no body for HEAD with a streaming body',
    app: () => {
      async function* body() {
        yield 'Hello'
      }
      return [200, ['Content-Type', 'text/plain'], body()]
    },
    async check(fetch) {
      const res = await fetch('/', { method: 'HEAD' })
      assert.equal(res.status, 200)
      assert.equal(await res.text(), '')
    },
  },
  {
    name: 'Set-Cookie headers stay apart',
    app: () => text('ok', 200, ['Set-Cookie', 'a=1; Path=/', 'Set-Cookie', 'b=2, c']),
    async check(fetch) {
      assert.deepEqual((await fetch('/')).headers.getSetCookie(), ['a=1; Path=/', 'b=2, c'])
    },
  },
  {
    name: 'custom reason phrase',
    // Only HTTP/1.x carries one; on HTTP/2 the server ignores the key (spec 3.5).
    protocols: ['http1'],
    app: (env) => {
      env['tsgix.reason_phrase'] = 'Pretty Good'
      return text('ok')
    },
    async check(fetch) {
      const res = await fetch('/')
      assert.equal(`${res.status} ${res.statusText}`, '200 Pretty Good')
    },
  },
]
