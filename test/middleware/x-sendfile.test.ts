import { createReadStream } from 'node:fs'
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builder, enable } from '../../builder/index.js'
import { staticFiles } from '../../middleware/static.js'
import {
  mapAccelPath,
  parseAccelMapping,
  type XSendfileOptions,
  xSendfile,
} from '../../middleware/x-sendfile.js'
import { fileBody } from '../../src/body.js'
import { testApp } from '../../src/testing/index.js'
import type { App, Body } from '../../src/types.js'
import { FORMS, respondIn } from './forms.js'

let dir: string
let file: string
beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'tsgi-xsendfile-')))
  file = join(dir, 'report.txt')
  await writeFile(file, 'file contents')
  await writeFile(join(dir, 'a b?c.txt'), 'odd name')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const fileApp =
  (body: () => Body): App =>
  () => [200, ['Content-Type', 'text/plain', 'Content-Length', '13'], body()]

async function get(app: App, headers: Record<string, string> = {}) {
  let out: { status: number; headers: Headers; body: string; errors: string } | undefined
  await testApp(app, async (fetch, ctx) => {
    const res = await fetch('/', { headers })
    out = { status: res.status, headers: res.headers, body: await res.text(), errors: ctx.errors() }
  })
  return out!
}

// Plack's t/Plack-Middleware/xsendfile.t: Static serves a real file, the request names the variation.
describe("XSendfile: Plack's xsendfile.t", () => {
  it('sets X-Sendfile to the real path and sends no body', async () => {
    const app = builder(
      enable(xSendfile({ trustRequestHeaders: true })),
      enable(staticFiles, { path: /./, root: dir }),
      () => [404, [], []],
    )
    await testApp(app, async (fetch) => {
      const res = await fetch('/report.txt', { headers: { 'X-Sendfile-Type': 'X-Sendfile' } })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
      expect(res.headers.get('x-sendfile')).toBe(file)
      expect(res.headers.get('content-length')).toBe('0')
      expect(await res.text()).toBe('')
    })
  })
})

describe('XSendfile: variations', () => {
  const table: [string, XSendfileOptions | undefined, Record<string, string>, string, string | null][] = [
    ['option X-Sendfile', { variation: 'X-Sendfile' }, {}, 'x-sendfile', 'FILE'],
    [
      'option X-Lighttpd-Send-File',
      { variation: 'X-Lighttpd-Send-File' },
      {},
      'x-lighttpd-send-file',
      'FILE',
    ],
    [
      'trusted request header',
      { trustRequestHeaders: true },
      { 'X-Sendfile-Type': 'X-Lighttpd-Send-File' },
      'x-lighttpd-send-file',
      'FILE',
    ],
    [
      'trusted request header, other case',
      { trustRequestHeaders: true },
      { 'X-Sendfile-Type': 'x-sendfile' },
      'x-sendfile',
      'FILE',
    ],
    ['request header ignored by default', undefined, { 'X-Sendfile-Type': 'X-Sendfile' }, 'x-sendfile', null],
    [
      'request headers ignored by default, X-Accel-Redirect',
      undefined,
      { 'X-Sendfile-Type': 'X-Accel-Redirect', 'X-Accel-Mapping': '/=/internal/' },
      'x-accel-redirect',
      null,
    ],
    [
      'option beats the request header',
      { variation: 'X-Sendfile' },
      { 'X-Sendfile-Type': 'X-Lighttpd-Send-File' },
      'x-sendfile',
      'FILE',
    ],
    [
      'untrusted request header',
      { trustRequestHeaders: false },
      { 'X-Sendfile-Type': 'X-Sendfile' },
      'x-sendfile',
      null,
    ],
    ['nothing configured', undefined, {}, 'x-sendfile', null],
    [
      'X-Accel-Redirect, mapping header',
      { trustRequestHeaders: true },
      { 'X-Sendfile-Type': 'X-Accel-Redirect', 'X-Accel-Mapping': 'DIR/=/internal/' },
      'x-accel-redirect',
      '/internal/report.txt',
    ],
    [
      'X-Accel-Redirect, second of several mappings',
      { trustRequestHeaders: true },
      { 'X-Sendfile-Type': 'X-Accel-Redirect', 'X-Accel-Mapping': '/elsewhere/=/nope/, DIR=/files' },
      'x-accel-redirect',
      '/files/report.txt',
    ],
    [
      'X-Accel-Redirect, mapping option beats the header',
      { variation: 'X-Accel-Redirect', mapping: { 'DIR/': '/opt/' } },
      { 'X-Accel-Mapping': 'DIR/=/internal/' },
      'x-accel-redirect',
      '/opt/report.txt',
    ],
  ]
  it.each(FORMS.flatMap((form) => table.map((row) => [form, ...row] as const)))(
    '%s body: %s',
    async (form, _name, options, requestHeaders, header, expected) => {
      const headers = Object.fromEntries(
        Object.entries(requestHeaders).map(([k, v]) => [k, v.replace('DIR', dir)]),
      )
      const want = expected === 'FILE' ? file : expected
      const mapping = options?.mapping
      const resolved: XSendfileOptions | undefined = mapping
        ? {
            ...options,
            mapping: Object.fromEntries(Object.entries(mapping).map(([k, v]) => [k.replace('DIR', dir), v])),
          }
        : options
      const head = ['Content-Type', 'text/plain', 'Content-Length', '13']
      const app = xSendfile(resolved)(() =>
        form === 'iterable' ? [200, head, fileBody(file)] : respondIn(form, 200, head, ['file contents']),
      )
      const res = await get(app, headers)
      const applies = form === 'iterable' && want !== null
      expect(res.status).toBe(200)
      expect(res.headers.get(header)).toBe(applies ? want : null)
      expect(res.body).toBe(applies ? '' : 'file contents')
      expect(res.headers.get('content-length')).toBe(applies ? '0' : '13')
    },
  )
})

describe('XSendfile: edge cases', () => {
  it('streams an fs.ReadStream body as it is: its path makes it no file body', async () => {
    let closed: Promise<void> | undefined
    const app = xSendfile({ variation: 'X-Sendfile' })(
      fileApp(() => {
        const stream = createReadStream(file)
        closed = new Promise((resolve) => stream.once('close', () => resolve()))
        return stream
      }),
    )
    const res = await get(app)
    expect(res.headers.get('x-sendfile')).toBeNull()
    expect(res.headers.get('content-length')).toBe('13')
    expect(res.body).toBe('file contents')
    await closed // read to the end and closed by the server, as any stream
  })

  it('leaves a hand-made object with a path to be read as a stream', async () => {
    const handMade = {
      path: file,
      [Symbol.asyncIterator]: () => createReadStream(file)[Symbol.asyncIterator](),
    }
    const res = await get(xSendfile({ variation: 'X-Sendfile' })(fileApp(() => handMade)))
    expect(res.headers.get('x-sendfile')).toBeNull()
    expect(res.body).toBe('file contents')
  })

  it('leaves byte ranges to be sent by the app', async () => {
    const app = xSendfile({ variation: 'X-Sendfile' })(() => [
      206,
      ['Content-Range', 'bytes 5-12/13', 'Content-Length', '8'],
      fileBody(file, { start: 5, end: 12 }),
    ])
    const res = await get(app)
    expect(res.status).toBe(206)
    expect(res.headers.get('x-sendfile')).toBeNull()
    expect(res.body).toBe('contents')
  })

  it('keeps a header the app set itself', async () => {
    const app = xSendfile({ variation: 'X-Sendfile' })(() => [200, ['X-Sendfile', '/other'], fileBody(file)])
    const res = await get(app)
    expect(res.headers.get('x-sendfile')).toBe('/other')
    expect(res.body).toBe('file contents')
  })

  it('reports an unknown variation and leaves the response alone', async () => {
    const app = xSendfile({ trustRequestHeaders: true })(fileApp(() => fileBody(file)))
    const res = await get(app, { 'X-Sendfile-Type': 'X-Bogus' })
    expect(res.body).toBe('file contents')
    expect(res.errors).toContain('unknown variation "X-Bogus"')
  })

  it('uses env tsgix.sendfile.type before the request header', async () => {
    const app = xSendfile()((env) => {
      env['tsgix.sendfile.type'] = 'X-Lighttpd-Send-File'
      return [200, [], fileBody(file)]
    })
    const res = await get(app, { 'X-Sendfile-Type': 'X-Sendfile' })
    expect(res.headers.get('x-lighttpd-send-file')).toBe(file)
    expect(res.headers.get('x-sendfile')).toBeNull()
  })

  it('sends the file itself when no X-Accel-Mapping matches', async () => {
    const app = xSendfile({ variation: 'X-Accel-Redirect' })(fileApp(() => fileBody(file)))
    const res = await get(app, { 'X-Accel-Mapping': '/nowhere/=/x/' })
    expect(res.headers.get('x-accel-redirect')).toBeNull()
    expect(res.body).toBe('file contents')
    expect(res.errors).toContain('no X-Accel-Mapping matches')
  })

  it.each([
    ['by default', {}],
    ['with trustRequestHeaders: false', { trustRequestHeaders: false }],
  ])('ignores the X-Accel-Mapping request header %s', async (_label, extra) => {
    const app = xSendfile({ variation: 'X-Accel-Redirect', ...extra })(fileApp(() => fileBody(file)))
    const res = await get(app, { 'X-Accel-Mapping': `${dir}/=/internal/` })
    expect(res.headers.get('x-accel-redirect')).toBeNull()
    expect(res.body).toBe('file contents')
  })

  it('percent-encodes the mapped rest of the path for nginx', async () => {
    const odd = join(dir, 'a b?c.txt')
    const app = xSendfile({ variation: 'X-Accel-Redirect', mapping: { [`${dir}/`]: '/internal/' } })(() => [
      200,
      [],
      fileBody(odd),
    ])
    const res = await get(app)
    expect(res.headers.get('x-accel-redirect')).toBe('/internal/a%20b%3Fc.txt')
  })

  it('sends the file when its path cannot go in a header', async () => {
    const odd = join(dir, 'x\ny')
    await writeFile(odd, 'newline in the name')
    const app = xSendfile({ variation: 'X-Sendfile' })(() => [200, [], fileBody(odd)])
    const res = await get(app)
    expect(res.headers.get('x-sendfile')).toBeNull()
    expect(res.body).toBe('newline in the name')
    expect(res.errors).toContain('cannot put in a header')
  })
})

describe('XSendfile: X-Accel-Mapping', () => {
  it.each([
    ['/var/www/=/files/', [['/var/www/', '/files/']]],
    [
      ' /a/ = /b/ , /c/=/d/ ',
      [
        ['/a/', '/b/'],
        ['/c/', '/d/'],
      ],
    ],
    ['/a=/b=c', [['/a', '/b=c']]],
    ['=/x, /y=, junk', []],
    ['', []],
  ])('parses %j', (header, expected) => {
    expect(parseAccelMapping(header)).toEqual(expected)
  })

  it.each([
    ['/var/www/x.txt', '/files/x.txt'],
    ['/var/www/sub/ü.txt', '/files/sub/%C3%BC.txt'],
    ['/VAR/WWW/x.txt', undefined],
    ['/srv/x.txt', undefined],
  ])('maps %s → %s', (path, expected) => {
    expect(mapAccelPath([['/var/www/', '/files/']], path)).toBe(expected)
  })
})

describe('XSendfile: options', () => {
  const table: [unknown, string][] = [
    [{ variation: 'X-Foo' }, "option 'variation'"],
    [{ mapping: '/a=/b' }, "option 'mapping'"],
    [{ mapping: { '/a': 1 } }, "option 'mapping'"],
    [{ mapping: { '/a': '' } }, "option 'mapping'"],
    [{ trustRequestHeaders: 'no' }, "option 'trustRequestHeaders'"],
    [{ type: 'X-Sendfile' }, "unknown option 'type'"],
  ]
  it.each(table)('%j → TypeError', (options, message) => {
    const build = () => xSendfile(options as XSendfileOptions)
    expect(build).toThrow(TypeError)
    expect(build).toThrow(message)
    expect(build).toThrow(/^XSendfile: /)
  })
})
