/**
 * The conformance cases on failures and lifecycle: invalid responses refused with a 500, application errors, cleanup handlers and `tsgix.signal`.
 */
import assert from 'node:assert/strict'
import { HttpError } from '../http-error.js'
import type { Env, Triple } from '../types.js'
import { aborted, expectPost, post, type SuiteCase, TOKEN_HEADER, text } from './suite-support.js'

const invalid = (headers: string[]): Triple => [200, headers, ['never sent']]

async function rejects500(res: globalThis.Response): Promise<void> {
  assert.equal(res.status, 500)
  assert.equal(res.headers.get('x-bad'), null)
  assert.doesNotMatch(await res.text(), /never sent/)
}

function tracked(env: Env, what: (env: Env) => unknown): void {
  env['tsgix.cleanup.handlers']?.push((e) => post(e, what(e)))
}

export const failureCases: SuiteCase[] = [
  {
    name: 'header value with CR/LF is refused',
    app: () => invalid(['Content-Type', 'text/plain', 'X-Bad', 'a\r\nSet-Cookie: x=1']),
    async check(fetch, ctx) {
      const res = await fetch('/')
      assert.equal(res.headers.get('set-cookie'), null)
      await rejects500(res)
      assert.match(ctx.errors(), /X-Bad/)
    },
  },
  {
    name: 'invalid header name is refused',
    app: () => invalid(['Content-Type', 'text/plain', 'X Bad', 'a']),
    async check(fetch, ctx) {
      await rejects500(await fetch('/'))
      assert.match(ctx.errors(), /X Bad/)
    },
  },
  {
    name: 'invalid status is refused',
    app: () => [42, ['Content-Type', 'text/plain'], ['never sent']],
    async check(fetch, ctx) {
      await rejects500(await fetch('/'))
      assert.match(ctx.errors(), /42/)
    },
  },
  {
    name: 'invalid streaming head is refused and its writer rejects',
    app: (env) => async (respond) => {
      const writer = respond([200, ['X-Bad', 'a\nb']])
      post(
        env,
        await writer.write('never sent').then(
          () => 'written',
          () => 'rejected',
        ),
      )
    },
    async check(fetch, ctx) {
      const { token, posted } = expectPost()
      await rejects500(await fetch('/', { headers: { [TOKEN_HEADER]: token } }))
      assert.equal(await posted, 'rejected')
      assert.match(ctx.errors(), /X-Bad/)
    },
  },
  {
    name: 'app throws: 500, logged, and the server keeps working',
    app: (env) => {
      if (env.PATH_INFO === '/die') throw new Error('Throwing an exception from the app')
      return text('alive')
    },
    async check(fetch, ctx) {
      const res = await fetch('/die')
      assert.equal(res.status, 500)
      await res.arrayBuffer()
      assert.match(ctx.errors(), /Throwing an exception from the app/)
      assert.equal(await (await fetch('/')).text(), 'alive')
    },
  },
  {
    name: 'app rejects: 500',
    app: async () => {
      throw new Error('async failure')
    },
    async check(fetch, ctx) {
      const res = await fetch('/')
      assert.equal(res.status, 500)
      await res.arrayBuffer()
      assert.match(ctx.errors(), /async failure/)
    },
  },
  {
    name: 'HttpError gives its status',
    app: () => {
      throw new HttpError(404)
    },
    async check(fetch) {
      const res = await fetch('/')
      assert.equal(res.status, 404)
      await res.arrayBuffer()
    },
  },
  {
    name: 'cleanup handlers run with the env',
    app: (env) => {
      tracked(env, (e) => e.PATH_INFO)
      return text('done')
    },
    async check(fetch) {
      const { token, posted } = expectPost()
      assert.equal(await (await fetch('/cleaned', { headers: { [TOKEN_HEADER]: token } })).text(), 'done')
      assert.equal(await posted, '/cleaned')
    },
  },
  {
    name: 'tsgix.signal is not aborted after a completed response',
    app: (env) => async (respond) => {
      tracked(env, (e) => e['tsgix.signal']?.aborted)
      const writer = respond([200, ['Content-Type', 'text/plain']])
      await writer.write('streamed')
      await writer.close()
    },
    async check(fetch) {
      const { token, posted } = expectPost()
      assert.equal(await (await fetch('/', { headers: { [TOKEN_HEADER]: token } })).text(), 'streamed')
      assert.equal(await posted, false)
    },
  },
  {
    name: 'client disconnect aborts tsgix.signal and closes the body',
    app: (env) => {
      const signal = env['tsgix.signal']
      async function* body() {
        try {
          yield 'first'
          await aborted(signal)
          yield 'never read'
        } finally {
          post(env, signal?.reason)
        }
      }
      return [200, ['Content-Type', 'text/plain'], body()]
    },
    async check(fetch) {
      const { token, posted } = expectPost()
      const client = new AbortController()
      const res = await fetch('/', { headers: { [TOKEN_HEADER]: token }, signal: client.signal })
      const reader = res.body?.getReader()
      assert.ok(reader)
      assert.equal(new TextDecoder().decode((await reader.read()).value), 'first')
      client.abort()
      await reader.cancel().catch(() => {})
      assert.equal(await posted, 'client-disconnected')
    },
  },
]
