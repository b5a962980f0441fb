/**
 * The conformance cases on response bodies: arrays, files, iterables, delayed responses and writers.
 */
import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { fileBody } from '../body.js'
import {
  bytes,
  expectPost,
  hand,
  pattern,
  post,
  received,
  type SuiteCase,
  sha256,
  TOKEN_HEADER,
  text,
  withTempFile,
} from './suite-support.js'

const thisFile = fileURLToPath(import.meta.url)

export const responseBodyCases: SuiteCase[] = [
  {
    name: 'file body',
    app: () => [200, ['Content-Type', 'text/plain'], fileBody(thisFile)],
    async check(fetch) {
      const res = await fetch('/')
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/plain')
      assert.deepEqual(await bytes(res), await readFile(thisFile))
    },
  },
  {
    name: 'file body with Content-Length',
    app: async () => {
      const { size } = await stat(thisFile)
      return [200, ['Content-Type', 'text/plain', 'Content-Length', String(size)], fileBody(thisFile)]
    },
    async check(fetch) {
      const res = await fetch('/foo.txt')
      const { size } = await stat(thisFile)
      assert.equal(res.headers.get('content-length'), String(size))
      assert.equal((await bytes(res)).length, size)
    },
  },
  {
    name: 'bigger file',
    app: (env) => {
      const path = String(received(env))
      return [200, ['Content-Type', 'application/octet-stream'], fileBody(path)]
    },
    async check(fetch) {
      const data = pattern(2_397_701)
      await withTempFile(data, async (path) => {
        const { token } = expectPost()
        hand(token, path)
        const res = await fetch('/kyoto.bin', { headers: { [TOKEN_HEADER]: token } })
        assert.equal(res.status, 200)
        const body = await bytes(res)
        assert.equal(body.length, data.length)
        assert.equal(sha256(body), sha256(data))
      })
    },
  },
  {
    name: 'file body range',
    app: () => [200, ['Content-Type', 'text/plain'], fileBody(thisFile, { start: 3, end: 12 })],
    async check(fetch) {
      const whole = await readFile(thisFile)
      assert.deepEqual(await bytes(await fetch('/')), whole.subarray(3, 13))
    },
  },
  {
    name: 'an iterable body is closed after it is read',
    app: (env) => {
      async function* count() {
        try {
          for (let i = 1; i <= 4; i++) yield String(i)
        } finally {
          post(env, 'closed')
        }
      }
      return [200, ['Content-Type', 'text/plain'], count()]
    },
    async check(fetch) {
      const { token, posted } = expectPost()
      assert.equal(await (await fetch('/call_close', { headers: { [TOKEN_HEADER]: token } })).text(), '1234')
      assert.equal(await posted, 'closed')
    },
  },
  {
    name: 'delayed response',
    app: (env) => (respond) => respond(text(`Hello, ${env.QUERY_STRING}`)),
    async check(fetch) {
      const res = await fetch('/?name=miyagawa')
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/plain')
      assert.equal(await res.text(), 'Hello, name=miyagawa')
    },
  },
  {
    name: 'delayed streaming response',
    app: (env) => async (respond) => {
      const writer = respond([200, ['Content-Type', 'text/plain']])
      await writer.write('Hello, ')
      await writer.write(new TextEncoder().encode(env.QUERY_STRING))
      await writer.close()
    },
    async check(fetch) {
      const res = await fetch('/?name=miyagawa')
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/plain')
      assert.equal(await res.text(), 'Hello, name=miyagawa')
    },
  },
  {
    name: 'CRLF in the body is just bytes',
    app: () => text('Foo: Bar\r\n\r\nHello World'),
    async check(fetch) {
      const res = await fetch('/')
      assert.equal(res.headers.get('foo'), null)
      assert.equal(await res.text(), 'Foo: Bar\r\n\r\nHello World')
    },
  },
  {
    name: 'Content-Length for an array body',
    app: () => [200, ['Content-Type', 'text/plain'], ['Hé', new TextEncoder().encode('llo')]],
    async check(fetch) {
      const res = await fetch('/')
      assert.equal(res.headers.get('content-length'), '6')
      assert.equal(await res.text(), 'Héllo')
    },
  },
  {
    name: 'Transfer-Encoding from the app is framing, not body',
    app: () => [200, ['Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked'], ['chunk', 'ed']],
    async check(fetch) {
      assert.equal(await (await fetch('/')).text(), 'chunked')
    },
  },
  {
    name: 'async-iterable body',
    app: () => {
      async function* body() {
        yield 'a'
        yield ''
        yield new TextEncoder().encode('b')
        yield 'c'.repeat(100_000)
      }
      return [200, ['Content-Type', 'text/plain'], body()]
    },
    async check(fetch) {
      assert.equal(await (await fetch('/')).text(), `ab${'c'.repeat(100_000)}`)
    },
  },
  {
    name: 'writer backpressure completes',
    app: () => async (respond) => {
      const writer = respond([200, ['Content-Type', 'application/octet-stream']])
      const chunk = new Uint8Array(64 * 1024).fill(120)
      for (let i = 0; i < 64; i++) await writer.write(chunk)
      await writer.close()
    },
    async check(fetch) {
      const body = await bytes(await fetch('/'))
      assert.equal(body.length, 64 * 64 * 1024)
      assert.ok(body.every((b) => b === 120))
    },
  },
]
