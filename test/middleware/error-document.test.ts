import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { builder, enable, mount } from '../../builder/index.js'
import { errorDocument } from '../../middleware/error-document.js'
import { staticFiles } from '../../middleware/static.js'
import { TsgiRequest } from '../../src/request.js'
import { requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { App, Env } from '../../src/types.js'
import { FORMS, type Form, type Probe, respondIn } from './forms.js'

const dir = mkdtempSync(join(tmpdir(), 'tsgi-error-document-'))
const errors = join(dir, 'errors')
const page404 = 'a\nb\nc\n\nThis is a fancy 404 page.\n'
const page500 = '<html><body>This is a fancy 500 page.</body></html>\n'
mkdirSync(errors)
writeFileSync(join(errors, '404.html'), page404)
writeFileSync(join(errors, '500.html'), page500)
writeFileSync(join(errors, '503.txt'), 'come back later\n')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs `app` on `env` to the end. */
const go = (app: App, env: Env) => runResponse(Promise.resolve(app(env)))

/** The app of Plack's error_document.t: the status comes from the path, in the given form. */
const statusApp =
  (form: Form): App =>
  (env) => {
    const status = Number(/status\/(\d+)/.exec(env.PATH_INFO)?.[1] ?? 200)
    return respondIn(
      form,
      status,
      ['Content-Type', 'text/plain', 'Content-Length', '10', 'ETag', '"x"'],
      [`Error: ${status}`],
    )
  }

describe.each(FORMS)('ErrorDocument, %s response', (form) => {
  // Plack's error_document.t: a file for 500, a subrequest (served by Static) for 404.
  it("translates Plack's error_document.t", async () => {
    const app = builder(
      enable(errorDocument, { 500: join(errors, '500.html') }),
      enable(errorDocument, { 404: '/errors/404.html', subrequest: true }),
      enable(staticFiles, { path: /^\/errors/, root: dir }),
      statusApp(form),
    )
    await testApp(app, async (fetch) => {
      let res = await fetch('/')
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('Error: 200')

      res = await fetch('/status/500')
      expect(res.status).toBe(500)
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(res.headers.get('etag')).toBeNull()
      expect(await res.text()).toMatch(/fancy 500/)

      res = await fetch('/status/404')
      expect(res.status).toBe(404)
      expect(res.headers.get('content-type')).toMatch(/text\/html/)
      expect(await res.text()).toMatch(/fancy 404/)
    })
  })

  // Plack's error_document_streaming_app.t, both halves, on both test implementations.
  it.each(['MockHTTP', 'Server'] as const)('serves a file for a streaming app (%s)', async (impl) => {
    const app = errorDocument({ 404: join(errors, '404.html') })(statusApp(form))
    await testApp(
      app,
      async (fetch) => {
        expect((await fetch('/')).status).toBe(200)
        const res = await fetch('/status/404')
        expect(res.status).toBe(404)
        expect(res.headers.get('content-type')).toMatch(/text\/html/)
        expect(await res.text()).toBe(page404)
      },
      { impl },
    )
  })

  it.each(['MockHTTP', 'Server'] as const)('uses a mounted subrequest app (%s)', async (impl) => {
    const app = builder(
      enable(errorDocument, { 404: '/404', subrequest: true }),
      mount('/404', () => [200, ['Content-Type', 'text/html'], [page404]]),
      mount('/', statusApp(form)),
    )
    await testApp(
      app,
      async (fetch) => {
        expect(await (await fetch('/')).text()).toBe('Error: 200')
        const res = await fetch('/status/404')
        expect(res.status).toBe(404)
        expect(res.headers.get('content-type')).toMatch(/text\/html/)
        expect(await res.text()).toMatch(/fancy 404/)
      },
      { impl },
    )
  })

  it('keeps the original response when the subrequest does not answer 200', async () => {
    const app = errorDocument({ 404: '/status/410', subrequest: true })(statusApp(form))
    const out = await go(app, requestEnv({ PATH_INFO: '/status/404' }))
    expect(out.status).toBe(404)
    expect(out.body).toBe('Error: 404')
  })

  it('gives a plain-text file a utf-8 content type, and leaves unmapped errors alone', async () => {
    const app = errorDocument({ 503: join(errors, '503.txt') })(statusApp(form))
    const out = await go(app, requestEnv({ PATH_INFO: '/status/503' }))
    expect(out.status).toBe(503)
    expect(out.headers).toContain('text/plain; charset=utf-8')
    expect(out.body).toBe('come back later\n')
    const other = await go(app, requestEnv({ PATH_INFO: '/status/502' }))
    expect(other.body).toBe('Error: 502')
  })
})

describe('ErrorDocument', () => {
  it('closes the iterable body it replaces', async () => {
    const probe: Probe = { pulled: 0, closed: false }
    const app = errorDocument({ 404: join(errors, '404.html') })(() =>
      respondIn('iterable', 404, ['Content-Type', 'text/plain'], ['gone'], probe),
    )
    const out = await go(app, requestEnv())
    expect(out.body).toBe(page404)
    expect(probe.pulled).toBe(0)
  })

  it('runs the subrequest as a GET on a copy of the env, keeping the original in tsgix.errordocument.*', async () => {
    let sub: Env | undefined
    const original = requestEnv({
      REQUEST_METHOD: 'POST',
      PATH_INFO: '/form',
      QUERY_STRING: 'a=1',
      CONTENT_LENGTH: '3',
    })
    const app = errorDocument({ 405: '/errors/405?from=form', subrequest: true })((env) => {
      if (env.PATH_INFO.startsWith('/errors/')) {
        sub = env
        return [200, ['Content-Type', 'text/plain'], ['no such method']]
      }
      return [405, ['Content-Type', 'text/plain'], ['nope']]
    })
    const out = await go(app, original)
    expect(out).toMatchObject({ status: 405, body: 'no such method' })
    expect(sub).toMatchObject({
      REQUEST_METHOD: 'GET',
      PATH_INFO: '/errors/405',
      QUERY_STRING: 'from=form',
      REQUEST_URI: '/errors/405?from=form',
      'tsgix.errordocument.REQUEST_METHOD': 'POST',
      'tsgix.errordocument.PATH_INFO': '/form',
      'tsgix.errordocument.QUERY_STRING': 'a=1',
      'tsgix.errordocument.CONTENT_LENGTH': '3',
    })
    expect(sub?.CONTENT_LENGTH).toBeUndefined()
    expect(original.PATH_INFO).toBe('/form')
  })

  it("the subrequest sees none of the original request's parsed body, parameters or uploads", async () => {
    const body = 'secret=hunter2&a=2'
    const original = requestEnv({
      REQUEST_METHOD: 'POST',
      PATH_INFO: '/form',
      QUERY_STRING: 'a=1',
      CONTENT_TYPE: 'application/x-www-form-urlencoded',
      CONTENT_LENGTH: String(body.length),
      HTTP_TRANSFER_ENCODING: 'chunked',
      'tsgi.input': Readable.from([Buffer.from(body)]),
    })
    const app = errorDocument({ 404: '/errors/404?page=x', subrequest: true })(async (env) => {
      const req = new TsgiRequest(env)
      const params = (await req.parameters()).toMixed()
      if (env.PATH_INFO.startsWith('/errors/')) {
        const raw = Buffer.from(await req.bytes()).toString()
        return [200, ['Content-Type', 'application/json'], [JSON.stringify({ params, raw })]]
      }
      expect(params).toEqual({ a: ['1', '2'], secret: 'hunter2' })
      return [404, ['Content-Type', 'text/plain'], ['nope']]
    })
    const out = await go(app, original)
    expect(out.status).toBe(404)
    expect(JSON.parse(out.body)).toEqual({ params: { page: 'x' }, raw: '' })
  })

  it('collects a subrequest that answers through a writer', async () => {
    const app = errorDocument({ 404: '/nf', subrequest: true })((env) =>
      env.PATH_INFO === '/nf'
        ? respondIn('writer', 200, ['Content-Type', 'text/html'], ['<p>', 'lost', '</p>'])
        : respondIn('writer', 404, [], ['x']),
    )
    const out = await go(app, requestEnv())
    expect(out).toMatchObject({ status: 404, body: '<p>lost</p>' })
  })

  it.each([
    [{ 404: 42 }, /ErrorDocument: option '404' must be a string/],
    [{ 200: '/x', subrequest: true }, /ErrorDocument: unknown option '200'/],
    [{ 404: '/x', subrequest: 'yes' }, /ErrorDocument: option 'subrequest' must be a boolean/],
    [{ 404: 'relative', subrequest: true }, /ErrorDocument: option '404' must be an app path/],
    [{ 404: join(dir, 'nope.html') }, /ErrorDocument: option '404': .* is not a readable file/],
    [{ 404: dir }, /ErrorDocument: option '404': .* is not a readable file/],
  ])('rejects bad options %o', (options, message) => {
    expect(() => errorDocument(options as never)).toThrow(TypeError)
    expect(() => errorDocument(options as never)).toThrow(message)
  })
})
