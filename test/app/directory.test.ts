import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodePath } from '../../src/app/directory/listing.js'
import { directory } from '../../src/app/directory.js'
import { readBody } from '../../src/body.js'
import { headerGet } from '../../src/headers.js'
import { escapeHtml } from '../../src/html.js'
import { testApp } from '../../src/testing/index.js'
import type { App } from '../../src/types.js'
import { callTriple } from '../middleware/forms.js'
import { envFor, type Fixture, makeFixture, rawGet, SECRET } from './file-fixtures.js'

let fx: Fixture
let app: App
beforeAll(() => {
  fx = makeFixture()
  app = directory({ root: fx.root })
})
afterAll(() => fx.cleanup())

describe('Directory: Plack t/Plack-Middleware/directory.t', () => {
  it('percent-encodes names in links, refuses .. (403), NUL (400), ..\\ (403), serves stuff../', async () => {
    await testApp(app, async (fetch) => {
      const index = await fetch('/')
      expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8')
      const html = await index.text()
      expect(html).toContain('/%23foo')
      expect(html).toMatch(/Index of \//)
      expect((await callTriple(app, envFor('/..')))[0]).toBe(403)
      expect((await callTriple(app, envFor('/..\0foo')))[0]).toBe(400)
      expect((await callTriple(app, envFor('/..\\foo')))[0]).toBe(403)
      const hello = await fetch('/stuff../Hello.txt')
      expect(hello.status).toBe(200)
      expect(await hello.text()).toBe('Hello\n')
    })
  })
})

describe('Directory listing', () => {
  it('lists entries sorted, with parent link, sizes, types, dates, escaped names', async () => {
    const [status, headers, body] = await callTriple(app, envFor('/'))
    expect(status).toBe(200)
    const html = (await readBody(body)).toString()
    expect(headerGet(headers, 'content-length')).toBe(String(Buffer.byteLength(html)))
    expect(html).toContain('<a href="../">Parent Directory</a>')
    expect(html).toContain(
      '<a href="/hello.txt">hello.txt</a></td><td class="size">6</td><td class="type">text/plain</td><td class="mtime">Thu, 02 Jan 2020 03:04:05 GMT</td>',
    )
    expect(html).toContain(
      '<a href="/sub/">sub/</a></td><td class="size"></td><td class="type">directory</td>',
    )
    expect(html).toContain('<a href="/a%20b%26%3Cc%3E.txt">a b&amp;&lt;c&gt;.txt</a>')
    expect(html).not.toContain('<c>')
    const names = [...html.matchAll(/<td class="name"><a href="[^"]*">([^<]*)<\/a>/g)].map((m) => m[1])
    expect(names.slice(1)).toEqual([...names.slice(1)].sort())
  })

  it('builds links from SCRIPT_NAME + PATH_INFO and titles from PATH_INFO', async () => {
    const [, , body] = await callTriple(app, envFor('/sub/', { SCRIPT_NAME: '/files' }))
    const html = (await readBody(body)).toString()
    expect(html).toContain('<title>Index of /sub/</title>')
    expect(html).toContain('<a href="/files/sub/deeper/">deeper/</a>')
    expect(html).toContain('<a href="/files/sub/inner.txt">inner.txt</a>')
  })

  it.each([
    ['/sub', '', '', '/sub/'],
    ['/sub', 'a=1&b=%20', '', '/sub/?a=1&b=%20'],
    ['', '', '/files', '/files/'],
    ['/stuff..', 'x', '/m', '/m/stuff../?x'],
    // A leading `//` would make the Location a network-path reference: an open redirect to host "sub".
    ['//sub', '', '', '/sub/'],
    ['///sub', 'q', '', '/sub/?q'],
    ['/\\sub', '', '', '/%5Csub/'],
  ])('redirects %j (query %j, script %j) to %s', async (path, query, script, location) => {
    const [status, headers, body] = await callTriple(
      app,
      envFor(path, { QUERY_STRING: query, SCRIPT_NAME: script }),
    )
    expect(status).toBe(301)
    expect(headerGet(headers, 'location')).toBe(location)
    expect(body).toEqual(['Redirect'])
  })

  it('redirects and refuses raw paths through the real server', async () => {
    await testApp(
      app,
      async (fetch, { url }) => {
        expect((await rawGet(url, '/..')).status).toBe(403)
        expect((await rawGet(url, '/..%00foo')).status).toBe(400)
        expect((await rawGet(url, '/..%5cfoo')).status).toBe(403)
        const res = await fetch('/sub?q=1')
        expect(res.status).toBe(301)
        expect(res.headers.get('location')).toBe('/sub/?q=1')
        const open = await rawGet(url, '//sub')
        expect(open.status).toBe(301)
        expect(open.headers.location).toBe('/sub/')
      },
      { impl: 'Server' },
    )
  })

  it.each([
    ['/missing/', 404],
    ['/hello.txt/', 404],
    ['/escape-dir/', 403],
    ['/../', 403],
  ])('%s → %i', async (path, status) => {
    const [got, , body] = await callTriple(app, envFor(path))
    expect(got).toBe(status)
    expect((await readBody(body)).toString()).not.toContain('secret')
  })

  it('serves files as File does, with ranges', async () => {
    const [status, headers, body] = await callTriple(app, envFor('/hello.txt', { HTTP_RANGE: 'bytes=0-1' }))
    expect(status).toBe(206)
    expect(headerGet(headers, 'content-range')).toBe('bytes 0-1/6')
    expect((await readBody(body)).toString()).toBe('He')
  })

  it('answers 405 to POST on a directory', async () => {
    expect((await callTriple(app, envFor('/', { REQUEST_METHOD: 'POST' })))[0]).toBe(405)
  })

  it('never lists the outside directory', async () => {
    const [, , body] = await callTriple(app, envFor('/escape-dir/'))
    expect((await readBody(body)).toString()).not.toContain(SECRET)
  })
})

describe('Directory helpers and options', () => {
  it.each([
    ['<a href="x">&\'', '&lt;a href=&quot;x&quot;&gt;&amp;&#39;'],
    ['plain', 'plain'],
  ])('escapeHtml(%j)', (input, out) => {
    expect(escapeHtml(input)).toBe(out)
  })

  it.each([
    ['/a b/#c?', '/a%20b/%23c%3F'],
    ['/é/', '/%C3%A9/'],
  ])('encodePath(%j)', (input, out) => {
    expect(encodePath(input)).toBe(out)
  })

  it.each([
    [{ nope: 1 }, /Directory: unknown option 'nope'/],
    [{ root: 1 }, /Directory: option 'root' must be a string/],
    [{ precompressed: 'br' }, /Directory: option 'precompressed'/],
  ])('rejects %o', (opts, message) => {
    expect(() => directory(opts as never)).toThrow(message)
  })
})
