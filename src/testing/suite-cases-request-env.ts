/**
 * The conformance cases on the request env: CGI keys, headers, paths and the tsgi keys.
 */
import assert from 'node:assert/strict'
import { echoKey, type SuiteCase, text } from './suite-support.js'

export const requestEnvCases: SuiteCase[] = [
  {
    name: 'GET with a query string',
    app: (env) => text(`Hello, ${env.QUERY_STRING}`),
    async check(fetch) {
      const res = await fetch('/?name=miyagawa')
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/plain')
      assert.equal(await res.text(), 'Hello, name=miyagawa')
    },
  },
  {
    name: 'tsgi.url_scheme',
    app: echoKey('tsgi.url_scheme'),
    async check(fetch, ctx) {
      const scheme = new URL(ctx.url).protocol.slice(0, -1)
      assert.equal(await (await fetch('/', { method: 'POST' })).text(), scheme)
    },
  },
  {
    name: 'handle HTTP-Header',
    app: echoKey('HTTP_FOO'),
    async check(fetch) {
      assert.equal(await (await fetch('/foo/?dankogai=kogaidan', { headers: { Foo: 'Bar' } })).text(), 'Bar')
    },
  },
  {
    name: 'handle HTTP-Cookie',
    app: echoKey('HTTP_COOKIE'),
    async check(fetch) {
      assert.equal(await (await fetch('/foo/', { headers: { Cookie: 'foo' } })).text(), 'foo')
    },
  },
  {
    name: 'validate env',
    app: (env) => {
      const keys = ['REQUEST_METHOD', 'PATH_INFO', 'QUERY_STRING', 'SERVER_NAME', 'SERVER_PORT']
      return text(keys.map((k) => `${k}:${String(env[k])}\n`).join(''))
    },
    async check(fetch, ctx) {
      const base = new URL(ctx.url)
      const expected = [
        'REQUEST_METHOD:GET',
        'PATH_INFO:/foo/',
        'QUERY_STRING:dankogai=kogaidan',
        `SERVER_NAME:${base.hostname}`,
        `SERVER_PORT:${base.port || '80'}`,
      ]
      assert.equal(await (await fetch('/foo/?dankogai=kogaidan')).text(), `${expected.join('\n')}\n`)
    },
  },
  {
    name: '% encoding in PATH_INFO',
    app: echoKey('PATH_INFO'),
    async check(fetch) {
      assert.equal(await (await fetch('/foo/bar%2cbaz')).text(), '/foo/bar,baz')
    },
  },
  {
    name: '% double encoding in PATH_INFO',
    app: echoKey('PATH_INFO'),
    async check(fetch) {
      assert.equal(await (await fetch('/foo/bar%252cbaz')).text(), '/foo/bar%2cbaz')
    },
  },
  {
    name: 'SERVER_PROTOCOL is required',
    app: echoKey('SERVER_PROTOCOL'),
    async check(fetch, ctx) {
      const expected = ctx.protocol === 'http2' ? /^HTTP\/2$/ : /^HTTP\/1\.[01]$/
      assert.match(await (await fetch('/foo/?dankogai=kogaidan')).text(), expected)
    },
  },
  {
    name: 'SCRIPT_NAME is a string',
    app: (env) => text(typeof env.SCRIPT_NAME),
    async check(fetch) {
      assert.equal(await (await fetch('/foo/')).text(), 'string')
    },
  },
  {
    name: 'has errors',
    app: (env) => text(String(typeof env['tsgi.errors']?.write === 'function')),
    async check(fetch) {
      assert.equal(await (await fetch('/has_errors')).text(), 'true')
    },
  },
  {
    name: 'multi headers (request)',
    app: echoKey('HTTP_FOO'),
    async check(fetch) {
      const headers = new globalThis.Headers([
        ['Foo', 'bar'],
        ['Foo', 'baz'],
      ])
      assert.match(await (await fetch('/', { headers })).text(), /^bar,\s*baz$/)
    },
  },
  {
    name: 'no env.COOKIE',
    app: (env) => text(String(env.HTTP_COOKIE), 200, ['X-Cookie', env.COOKIE === undefined ? '0' : '1']),
    async check(fetch) {
      const res = await fetch('/', { headers: { Cookie: 'foo=bar' } })
      assert.equal(res.headers.get('x-cookie'), '0')
      assert.equal(await res.text(), 'foo=bar')
    },
  },
  {
    name: 'REQUEST_URI is set',
    app: echoKey('REQUEST_URI'),
    async check(fetch) {
      assert.equal(await (await fetch('/foo/bar%20baz%73?x=a')).text(), '/foo/bar%20baz%73?x=a')
    },
  },
  {
    name: 'a big header value > 128 bytes',
    app: echoKey('HTTP_X_FOO'),
    async check(fetch) {
      const v = 'abcdefgh'.repeat(16)
      const res = await fetch('/', { headers: { 'X-Foo': v } })
      assert.equal(res.status, 200)
      assert.equal(await res.text(), v)
    },
  },
  {
    name: 'required tsgi keys',
    app: (env) =>
      text(
        JSON.stringify({
          version: env['tsgi.version'],
          flags: [
            env['tsgi.multithread'],
            env['tsgi.run_once'],
            env['tsgi.nonblocking'],
            env['tsgi.streaming'],
          ],
          multiprocess: typeof env['tsgi.multiprocess'],
          input: typeof env['tsgi.input']?.[Symbol.asyncIterator],
          signal: env['tsgix.signal'] instanceof AbortSignal,
          cleanup: [env['tsgix.cleanup'], Array.isArray(env['tsgix.cleanup.handlers'])],
        }),
      ),
    async check(fetch) {
      assert.deepEqual(JSON.parse(await (await fetch('/')).text()), {
        version: [1, 0],
        flags: [false, false, true, true],
        multiprocess: 'boolean',
        input: 'function',
        signal: true,
        cleanup: [true, true],
      })
    },
  },
  {
    name: 'QUERY_STRING is always present',
    app: (env) => text(JSON.stringify(env.QUERY_STRING)),
    async check(fetch) {
      assert.equal(await (await fetch('/no-query')).text(), '""')
    },
  },
  {
    name: 'PATH_INFO decodes UTF-8',
    app: (env) => text(env.PATH_INFO),
    async check(fetch) {
      assert.equal(await (await fetch('/caf%C3%A9/%E2%9C%93')).text(), '/café/✓')
    },
  },
  {
    name: 'Host header',
    app: (env) => text(String(env.HTTP_HOST)),
    async check(fetch) {
      assert.equal(await (await fetch('http://example.com:8080/x')).text(), 'example.com:8080')
    },
  },
]
