/**
 * The conformance cases on request bodies: tsgi.input, CONTENT_LENGTH and CONTENT_TYPE.
 */
import assert from 'node:assert/strict'
import { bytes, readInput, type SuiteCase, sha256, text } from './suite-support.js'

export const requestBodyCases: SuiteCase[] = [
  {
    name: 'POST a form',
    app: async (env) => {
      const body = await readInput(env)
      return text(`Hello, ${body}`, 200, [
        'Client-Content-Length',
        env.CONTENT_LENGTH ?? '',
        'Client-Content-Type',
        env.CONTENT_TYPE ?? '',
      ])
    },
    async check(fetch) {
      const res = await fetch('/', { method: 'POST', body: new URLSearchParams({ name: 'tatsuhiko' }) })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('client-content-length'), '14')
      assert.match(res.headers.get('client-content-type') ?? '', /^application\/x-www-form-urlencoded/)
      assert.equal(await res.text(), 'Hello, name=tatsuhiko')
    },
  },
  {
    name: 'big POST',
    app: async (env) => [200, ['Client-Content-Length', env.CONTENT_LENGTH ?? ''], [await readInput(env)]],
    async check(fetch) {
      const chunk = 'abcdefgh'.repeat(12000)
      const headers = { 'content-type': 'application/octet-stream' }
      const res = await fetch('/', { method: 'POST', body: chunk, headers })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('client-content-length'), String(chunk.length))
      const body = await bytes(res)
      assert.equal(body.length, chunk.length)
      assert.equal(sha256(body), sha256(Buffer.from(chunk)))
    },
  },
  {
    name: 'request body read whole',
    app: async (env) => text((await readInput(env)).toString()),
    async check(fetch) {
      const res = await fetch('/', {
        method: 'POST',
        body: 'body',
        headers: { 'Content-Type': 'text/plain' },
      })
      assert.equal(await res.text(), 'body')
    },
  },
  {
    name: 'Content-Length 0',
    app: async (env) => text(`${env.CONTENT_LENGTH}:${(await readInput(env)).length}`),
    async check(fetch) {
      assert.equal(await (await fetch('/', { method: 'POST', body: '' })).text(), '0:0')
    },
  },
  {
    name: 'CONTENT_TYPE and CONTENT_LENGTH are not HTTP_ keys',
    app: (env) =>
      text([env.CONTENT_TYPE, env.CONTENT_LENGTH, env.HTTP_CONTENT_TYPE, env.HTTP_CONTENT_LENGTH].join('|')),
    async check(fetch) {
      const res = await fetch('/', { method: 'POST', body: 'abc', headers: { 'Content-Type': 'text/x-a' } })
      assert.equal(await res.text(), 'text/x-a|3||')
    },
  },
]
