import { createReadStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contentLength } from '../../middleware/content-length.js'
import { fileBody } from '../../src/body.js'
import { requestEnv, runResponse, testApp } from '../../src/testing/index.js'
import type { App, AppResult, HeaderList } from '../../src/types.js'
import { FORMS, type Form, iterableBody, respondIn } from './forms.js'

let dir: string
let image: string
const SIZE = 14750

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-content-length-'))
  image = join(dir, 'baybridge.jpg')
  await writeFile(image, Buffer.alloc(SIZE, 7))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const headersOf = async (result: () => AppResult) =>
  (await runResponse(contentLength()(result)(requestEnv()))).headers

// Plack's t/Plack-Middleware/content_length.t, case by case.
describe('ContentLength: Plack content_length.t', () => {
  it.each<[string, () => AppResult, HeaderList]>([
    [
      'array body',
      () => [200, ['Content-Type', 'text/plain'], ['OK']],
      ['Content-Type', 'text/plain', 'Content-Length', '2'],
    ],
    [
      'file body',
      () => [200, ['Content-Type', 'image/jpeg'], fileBody(image)],
      ['Content-Type', 'image/jpeg', 'Content-Length', String(SIZE)],
    ],
    ['304', () => [304, ['ETag', 'Foo'], []], ['ETag', 'Foo']],
    [
      'a stream (not a file)',
      () => [200, ['Content-Type', 'text/plain'], iterableBody(['Hello World'])],
      ['Content-Type', 'text/plain'],
    ],
    [
      'Content-Length already set',
      () => [200, ['Content-Type', 'text/plain', 'Content-Length', '11'], ['Hello World']],
      ['Content-Type', 'text/plain', 'Content-Length', '11'],
    ],
  ])('%s', async (_, app, expected) => {
    expect(await headersOf(app)).toEqual(expected)
  })
})

describe('ContentLength: every response form', () => {
  it.each(FORMS)('%s body', async (form: Form) => {
    const res = await runResponse(
      contentLength()(() => respondIn(form, 200, [], ['Hé', 'llo']))(requestEnv()),
    )
    expect(res.headers).toEqual(form === 'array' ? ['Content-Length', '6'] : [])
    expect(res.body).toBe('Héllo')
  })

  it.each(['MockHTTP', 'Server'] as const)('sends the length of a file body (%s)', async (impl) => {
    await testApp(
      contentLength()(() => [200, [], fileBody(image, { start: 10 })]),
      async (fetch) => {
        const res = await fetch('/')
        expect(res.headers.get('Content-Length')).toBe(String(SIZE - 10))
        expect((await res.arrayBuffer()).byteLength).toBe(SIZE - 10)
      },
      { impl },
    )
  })
})

describe('ContentLength: streams with a path', () => {
  it('adds nothing for an fs.ReadStream body: it is a stream, not a file body', async () => {
    let closed: Promise<void> | undefined
    await testApp(
      contentLength()(() => {
        const stream = createReadStream(image)
        closed = new Promise((resolve) => stream.once('close', () => resolve()))
        return [200, [], stream]
      }),
      async (fetch) => {
        const res = await fetch('/')
        expect(res.headers.get('Content-Length')).toBeNull()
        expect((await res.arrayBuffer()).byteLength).toBe(SIZE)
      },
    )
    await closed
  })
})

describe('ContentLength: when it applies', () => {
  it.each<[string, { start?: number; end?: number }, number]>([
    ['a range', { start: 100, end: 199 }, 100],
    ['a start', { start: 14000 }, 750],
    ['an end', { end: 9 }, 10],
    ['an end past the file', { start: 14700, end: 99999 }, 50],
    ['a start past the file', { start: 20000 }, 0],
  ])('counts the bytes of a file body with %s', async (_, range, length) => {
    expect(await headersOf(() => [200, [], fileBody(image, range)])).toEqual([
      'Content-Length',
      String(length),
    ])
  })

  it('adds nothing for a file that cannot be stat-ed or is a directory', async () => {
    for (const path of [join(dir, 'missing'), dir]) {
      const res = await contentLength()(() => [200, [], fileBody(path)])(requestEnv())
      expect(typeof res !== 'function' && res[1]).toEqual([])
    }
  })

  it.each([100, 101, 204, 304])('adds nothing to a %i', async (status) => {
    expect(await headersOf(() => [status, [], []])).toEqual([])
  })

  it('adds nothing when Transfer-Encoding is set', async () => {
    expect(await headersOf(() => [200, ['Transfer-Encoding', 'chunked'], ['x']])).toEqual([
      'Transfer-Encoding',
      'chunked',
    ])
  })

  it('counts bytes, not characters, and an empty body as 0', async () => {
    expect(await headersOf(() => [200, [], ['€', new Uint8Array(3)]])).toEqual(['Content-Length', '6'])
    expect(await headersOf(() => [404, [], []])).toEqual(['Content-Length', '0'])
  })

  it('rejects options with a TypeError', () => {
    expect(() => contentLength({ x: 1 } as never)).toThrow(/ContentLength: unknown option 'x'/)
    expect(() => contentLength(1 as never)).toThrow(TypeError)
    const app: App = contentLength({})(() => [200, [], []])
    expect(typeof app).toBe('function')
  })
})
