import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conditionalGet } from '../../middleware/conditional-get.js'
import { type EtagOptions, etag } from '../../middleware/etag.js'
import { fileBody } from '../../src/body.js'
import { headerGet } from '../../src/headers.js'
import { requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { App, Body, HeaderList } from '../../src/types.js'
import { FORMS, type Form, respondIn } from './forms.js'

const content = ['hello', 'world']
const sha = createHash('sha1').update('helloworld').digest('hex')
const html = ['Content-Type', 'text/html']

let dir: string
let file: string
const past = new Date('2020-01-02T03:04:05Z')

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-etag-'))
  file = join(dir, 'README')
  await writeFile(file, 'file contents\n')
  await utimes(file, past, past)
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const respond =
  (body: Body, headers: HeaderList = html, status = 200): App =>
  () => [status, [...headers], body]
const tagOf = async (app: App, env = requestEnv()) => headerGet((await runResponse(app(env))).headers, 'ETag')

// Plack::Middleware::ETag's t/01_basic.t, with tags quoted as RFC 9110 requires.
describe('ETag: Plack 01_basic.t', () => {
  it('sets the SHA-1 of an array body', async () => {
    await testApp(etag()(respond(content)), async (fetch) => {
      expect((await fetch('/')).headers.get('ETag')).toBe(`"${sha}"`)
    })
  })

  it('keeps an ETag the app set', async () => {
    await testApp(etag()(respond(content, [...html, 'ETag', '123'])), async (fetch) => {
      expect((await fetch('/')).headers.get('ETag')).toBe('123')
    })
  })

  it('with ConditionalGET, answers 304 to its own tag', async () => {
    await testApp(conditionalGet()(etag()(respond(content))), async (fetch) => {
      const res = await fetch('/', { headers: { 'If-None-Match': `"${sha}"` } })
      expect(res.headers.get('ETag')).toBe(`"${sha}"`)
      expect(res.status).toBe(304)
      expect(await res.text()).toBe('')
    })
  })

  it('sets a tag for a file body and sends the file', async () => {
    await testApp(
      etag()(() => [200, [...html], fileBody(file)]),
      async (fetch) => {
        const res = await fetch('/')
        expect(res.headers.get('ETag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/)
        expect(res.status).toBe(200)
        expect(await res.text()).toBe('file contents\n')
      },
    )
  })

  it.each<[string, NonNullable<EtagOptions['cacheControl']>, string]>([
    ['true', true, 'must-revalidate'],
    ['an array', ['must-revalidate', 'max-age=3600', 'no-store'], 'must-revalidate, max-age=3600, no-store'],
    ['a string', 'public, max-age=60', 'public, max-age=60'],
  ])('cacheControl %s', async (_, cacheControl, expected) => {
    await testApp(etag({ cacheControl })(respond(content)), async (fetch) => {
      const res = await fetch('/')
      expect(res.headers.get('ETag')).toBe(`"${sha}"`)
      expect(res.headers.get('Cache-Control')).toBe(expected)
    })
  })
})

describe('ETag: every response form', () => {
  it.each(FORMS)('%s body', async (form: Form) => {
    const app = etag()(() => respondIn(form, 200, html, content))
    await testApp(app, async (fetch) => {
      const res = await fetch('/')
      expect(res.headers.get('ETag')).toBe(form === 'array' ? `"${sha}"` : null)
      expect(await res.text()).toBe('helloworld')
    })
  })
})

describe('ETag: file bodies', () => {
  it('is inode-mtime-size in hex, from fs.stat', async () => {
    const st = await stat(file, { bigint: true })
    const expected = `"${st.ino.toString(16)}-${(st.mtimeMs / 1000n).toString(16)}-${st.size.toString(16)}"`
    expect(await tagOf(etag()(respond(fileBody(file))))).toBe(expected)
  })

  it.each<
    [NonNullable<EtagOptions['fileEtag']>, (st: { ino: bigint; mtime: bigint; size: bigint }) => string]
  >([
    [['size'], (s) => s.size.toString(16)],
    ['inode', (s) => s.ino.toString(16)],
    [['size', 'mtime'], (s) => `${s.mtime.toString(16)}-${s.size.toString(16)}`],
    [['inode', 'size', 'inode'], (s) => `${s.ino.toString(16)}-${s.size.toString(16)}`],
  ])('fileEtag %j', async (fileEtag, expected) => {
    const st = await stat(file, { bigint: true })
    const tag = await tagOf(etag({ fileEtag })(respond(fileBody(file))))
    expect(tag).toBe(`"${expected({ ino: st.ino, mtime: st.mtimeMs / 1000n, size: st.size })}"`)
  })

  it('adds the byte range of a partial file body', async () => {
    const whole = await tagOf(etag({ fileEtag: 'size' })(respond(fileBody(file))))
    const part = await tagOf(etag({ fileEtag: 'size' })(respond(fileBody(file, { start: 2, end: 10 }))))
    expect(whole).toBe('"e"')
    expect(part).toBe('"e-2:a"')
  })

  it('is weak for a file modified within the last second', async () => {
    const fresh = join(dir, 'fresh')
    await writeFile(fresh, 'new')
    const future = new Date(Date.now() + 3600_000)
    await utimes(fresh, future, future)
    expect(await tagOf(etag({ fileEtag: 'size' })(respond(fileBody(fresh))))).toBe('W/"3"')
  })

  it('gives an fs.ReadStream body no file tag: it is a stream, sent as it is', async () => {
    await testApp(
      etag()(() => [200, [...html], createReadStream(file)]),
      async (fetch) => {
        const res = await fetch('/')
        expect(res.headers.get('ETag')).toBeNull()
        expect(await res.text()).toBe('file contents\n')
      },
    )
  })

  it('sets nothing for a file that cannot be stat-ed, and the body is left as it is', async () => {
    const body = fileBody(join(dir, 'missing'))
    const res = await etag()(respond(body))(requestEnv())
    expect(typeof res !== 'function' && headerGet(res[1], 'ETag')).toBeUndefined()
    expect(typeof res !== 'function' && res[2]).toBe(body)
  })
})

describe('ETag: when it applies', () => {
  it('weak: true makes content tags weak', async () => {
    expect(await tagOf(etag({ weak: true })(respond(content)))).toBe(`W/"${sha}"`)
  })

  it.each([201, 204, 206, 304, 404, 500])('leaves a %i response alone', async (status) => {
    expect(await tagOf(etag()(respond(content, html, status)))).toBeUndefined()
  })

  it.each(['no-cache', 'private, no-cache', 'No-Cache="Set-Cookie"', 'max-age=0,no-cache'])(
    'leaves Cache-Control: %s alone',
    async (cc) => {
      expect(await tagOf(etag()(respond(content, ['Cache-Control', cc])))).toBeUndefined()
    },
  )

  it.each(['no-cacheable', 'no-store', 'private'])('tags Cache-Control: %s', async (cc) => {
    expect(await tagOf(etag()(respond(content, ['Cache-Control', cc])))).toBe(`"${sha}"`)
  })

  it('checkLastModifiedHeader skips responses with Last-Modified', async () => {
    const headers = [...html, 'Last-Modified', 'Wed, 23 Sep 2009 13:36:33 GMT']
    expect(await tagOf(etag({ checkLastModifiedHeader: true })(respond(content, headers)))).toBeUndefined()
    expect(await tagOf(etag()(respond(content, headers)))).toBe(`"${sha}"`)
  })

  it('keeps a Cache-Control the app set', async () => {
    const res = await runResponse(
      etag({ cacheControl: true })(respond(content, ['Cache-Control', 'max-age=5']))(requestEnv()),
    )
    expect(headerGet(res.headers, 'Cache-Control')).toBe('max-age=5')
    expect(headerGet(res.headers, 'ETag')).toBe(`"${sha}"`)
  })

  it('adds no Cache-Control when it adds no ETag', async () => {
    const res = await runResponse(
      etag({ cacheControl: true })(respond(content, ['ETag', '"x"']))(requestEnv()),
    )
    expect(headerGet(res.headers, 'Cache-Control')).toBeUndefined()
  })

  it('hashes strings as UTF-8, the same as their bytes', async () => {
    const a = await tagOf(etag()(respond(['é'])))
    const b = await tagOf(etag()(respond([new TextEncoder().encode('é')])))
    expect(a).toBe(b)
  })
})

describe('ETag: options', () => {
  it.each<[unknown, RegExp]>([
    [{ file_etag: ['size'] }, /ETag: unknown option 'file_etag'/],
    [{ fileEtag: [] }, /ETag: option 'fileEtag' must be/],
    [{ fileEtag: ['ctime'] }, /ETag: option 'fileEtag' must be .*got \['ctime'\]/],
    [{ fileEtag: 1 }, /ETag: option 'fileEtag' must be/],
    [{ cacheControl: 1 }, /ETag: option 'cacheControl' must be a boolean/],
    [{ cacheControl: [] }, /ETag: option 'cacheControl'/],
    [{ cacheControl: ['ok', 2] }, /ETag: option 'cacheControl'/],
    [{ cacheControl: 'a\r\nb' }, /ETag: option 'cacheControl'/],
    [{ weak: 'yes' }, /ETag: option 'weak' must be a boolean/],
    [{ checkLastModifiedHeader: 1 }, /ETag: option 'checkLastModifiedHeader' must be a boolean/],
  ])('rejects %j with a TypeError', (options, message) => {
    expect(() => etag(options as never)).toThrow(TypeError)
    expect(() => etag(options as never)).toThrow(message)
  })

  it('does not change the caller options', () => {
    const options = { fileEtag: ['size', 'inode'] as const, cacheControl: ['a', 'b'] }
    etag(options)
    expect(options).toEqual({ fileEtag: ['size', 'inode'], cacheControl: ['a', 'b'] })
  })
})
