import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { HttpError } from '../../src/http-error.js'
import { TsgiRequest, type TsgiRequestOptions } from '../../src/request.js'
import { requestEnv } from '../../src/testing/index.js'
import type { CleanupHandler, Env } from '../../src/types.js'

const BOUNDARY = '----tsgi-test-boundary'

type Part = { name: string; value: string | Buffer; filename?: string; type?: string }

function multipart(parts: Part[]): Buffer {
  const chunks: Buffer[] = []
  for (const part of parts) {
    let head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"`
    if (part.filename !== undefined) head += `; filename="${part.filename}"`
    head += '\r\n'
    if (part.type !== undefined) head += `Content-Type: ${part.type}\r\n`
    chunks.push(Buffer.from(`${head}\r\n`), Buffer.from(part.value), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`))
  return Buffer.concat(chunks)
}

/** An env whose input yields the body in 64 KiB slices, with cleanup handlers as the node server gives. */
function multipartEnv(
  body: Buffer,
  extra: Record<string, unknown> = {},
): Env & { 'tsgix.cleanup.handlers': CleanupHandler[] } {
  const slices = (function* () {
    for (let i = 0; i < body.length; i += 65536) yield body.subarray(i, i + 65536)
  })()
  const env = requestEnv({
    REQUEST_METHOD: 'POST',
    CONTENT_TYPE: `multipart/form-data; boundary=${BOUNDARY}`,
    CONTENT_LENGTH: String(body.length),
    'tsgi.input': Readable.from(slices),
    'tsgix.cleanup': true,
    'tsgix.cleanup.handlers': [],
    ...extra,
  })
  return env as Env & { 'tsgix.cleanup.handlers': CleanupHandler[] }
}

async function runCleanup(env: Env): Promise<void> {
  for (const handler of env['tsgix.cleanup.handlers'] ?? []) await handler(env)
}

async function failure(promise: Promise<unknown>): Promise<number> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(HttpError)
  return (err as HttpError).status
}

describe('multipart bodies', () => {
  it('streams a multi-MiB upload to a temp file, removed by the cleanup handlers', async () => {
    const content = randomBytes(5 * 1024 * 1024 + 123)
    const body = multipart([
      { name: 'title', value: 'Holiday ✓' },
      { name: 'tag', value: 'a' },
      { name: 'photo', value: content, filename: 'C:\\Users\\me\\my photo (1).jpg', type: 'image/jpeg' },
      { name: 'tag', value: 'b' },
      { name: 'note', value: 'plain text file', filename: 'note.txt' },
    ])
    const env = multipartEnv(body, { QUERY_STRING: 'tag=q' })
    const req = new TsgiRequest(env)
    const params = await req.bodyParameters()
    expect(params.get('title')).toBe('Holiday ✓')
    expect(params.getAll('tag')).toEqual(['a', 'b'])
    expect((await req.parameters()).getAll('tag')).toEqual(['q', 'a', 'b'])
    expect(await req.upload()).toEqual(['photo', 'note'])

    const photo = (await req.upload('photo'))!
    expect(photo.filename).toBe('C:\\Users\\me\\my photo (1).jpg')
    expect(photo.rawBasename).toBe('my photo (1).jpg')
    expect(photo.basename).toBe('my_photo_1_.jpg')
    expect(photo.contentType).toBe('image/jpeg')
    expect(photo.type).toBe('image/jpeg')
    expect(photo.headers).toEqual(['Content-Type', 'image/jpeg'])
    expect(photo.size).toBe(content.length)
    expect(photo.tempname).toBe(photo.path)
    expect(dirname(photo.path).startsWith(tmpdir())).toBe(true)
    expect((await stat(photo.path)).size).toBe(content.length)
    expect((await readFile(photo.path)).equals(content)).toBe(true)

    const note = (await req.upload('note'))!
    expect(await note.text()).toBe('plain text file')
    expect(note.contentType).toBe('text/plain')
    expect(env['tsgix.cleanup.handlers']).toHaveLength(1)
    expect(env['tsgix.request.body_streamed']).toBe(true)

    await runCleanup(env)
    expect(existsSync(photo.path)).toBe(false)
    expect(existsSync(dirname(photo.path))).toBe(false)
  })

  it('a second TsgiRequest on the env shares the parse; cleanup() removes the files', async () => {
    const env = multipartEnv(multipart([{ name: 'f', value: 'data', filename: 'a.txt' }]))
    const [a, b] = await Promise.all([new TsgiRequest(env).uploads(), new TsgiRequest(env).uploads()])
    expect(a).toBe(b)
    const upload = a.get('f')!
    expect(existsSync(upload.path)).toBe(true)
    await new TsgiRequest(env).cleanup()
    expect(existsSync(upload.path)).toBe(false)
    await runCleanup(env)
  })

  it('the raw body of a streamed multipart request is not available', async () => {
    const env = multipartEnv(multipart([{ name: 'a', value: '1' }]))
    const req = new TsgiRequest(env)
    expect((await req.bodyParameters()).get('a')).toBe('1')
    await expect(req.text()).rejects.toThrow(/streamed/)
  })

  it('parses from a buffered input after a raw read', async () => {
    const env = multipartEnv(
      multipart([
        { name: 'a', value: '1' },
        { name: 'f', value: 'xyz', filename: 'f.bin' },
      ]),
    )
    const req = new TsgiRequest(env)
    expect((await req.text()).includes('xyz')).toBe(true)
    expect((await req.bodyParameters()).get('a')).toBe('1')
    expect(await (await req.upload('f'))!.text()).toBe('xyz')
    await runCleanup(env)
  })

  it('skips file parts with an empty file name', async () => {
    const env = multipartEnv(
      multipart([
        { name: 'f', value: '', filename: '' },
        { name: 'a', value: '1' },
      ]),
    )
    const req = new TsgiRequest(env)
    expect((await req.uploads()).size).toBe(0)
    expect((await req.bodyParameters()).get('a')).toBe('1')
    expect(env['tsgix.cleanup.handlers']).toHaveLength(0)
  })

  it.each<[string, Part[], TsgiRequestOptions]>([
    [
      'a file over maxFileSize',
      [{ name: 'f', value: Buffer.alloc(101), filename: 'f' }],
      { maxFileSize: 100 },
    ],
    ['too many files', [1, 2, 3].map((n) => ({ name: 'f', value: 'x', filename: `${n}` })), { maxFiles: 2 }],
    ['too many fields', [1, 2, 3].map((n) => ({ name: `k${n}`, value: 'v' })), { maxFields: 2 }],
    ['a field over maxBodySize', [{ name: 'k', value: 'x'.repeat(11) }], { maxBodySize: 10 }],
    [
      'fields over maxBodySize together (each under it)',
      [1, 2, 3].map((n) => ({ name: `k${n}`, value: 'x'.repeat(4) })),
      { maxBodySize: 10 },
    ],
    [
      'a body over maxMultipartSize (each file under maxFileSize)',
      [1, 2, 3].map((n) => ({ name: 'f', value: Buffer.alloc(400), filename: `${n}` })),
      { maxMultipartSize: 1000 },
    ],
  ])('%s is HttpError 413 and leaves no files', async (_label, parts, options) => {
    const env = multipartEnv(multipart(parts))
    expect(await failure(new TsgiRequest(env, options).bodyParameters())).toBe(413)
    expect(env['tsgix.request.upload_dir']).toBeUndefined()
    await runCleanup(env)
  })

  it('a chunked body (no Content-Length) growing past maxMultipartSize is 413 and leaves no files', async () => {
    const body = multipart([{ name: 'f', value: Buffer.alloc(300_000, 1), filename: 'f' }])
    const env = multipartEnv(body, { CONTENT_LENGTH: '', HTTP_TRANSFER_ENCODING: 'chunked' })
    expect(await failure(new TsgiRequest(env, { maxMultipartSize: 200_000 }).uploads())).toBe(413)
    expect(env['tsgix.request.upload_dir']).toBeUndefined()
    await runCleanup(env)
  })

  it('maxMultipartSize defaults to 256 MiB, or to maxFileSize + maxBodySize when larger', async () => {
    const huge = String(300 * 1024 * 1024)
    const small = multipartEnv(Buffer.alloc(0), { CONTENT_LENGTH: huge })
    expect(await failure(new TsgiRequest(small).uploads())).toBe(413)
    const big = multipartEnv(Buffer.from(`--${BOUNDARY}--\r\n`), { CONTENT_LENGTH: huge })
    // Allowed by the size check: the parse then fails on the short body (400), not on the size.
    expect(await failure(new TsgiRequest(big, { maxFileSize: 400 * 1024 * 1024 }).uploads())).toBe(400)
  })

  it('values of exactly the limits pass', async () => {
    const env = multipartEnv(
      multipart([
        { name: 'f', value: Buffer.alloc(100), filename: 'f' },
        { name: 'k', value: 'x'.repeat(10) },
      ]),
    )
    const req = new TsgiRequest(env, { maxFileSize: 100, maxBodySize: 10, maxFiles: 1, maxFields: 1 })
    expect((await req.upload('f'))!.size).toBe(100)
    expect((await req.bodyParameters()).get('k')).toBe('x'.repeat(10))
    await runCleanup(env)
  })

  it.each([
    ['a missing boundary', 'multipart/form-data', multipart([{ name: 'a', value: '1' }])],
    ['a truncated body', undefined, multipart([{ name: 'f', value: 'abc', filename: 'f' }]).subarray(0, 90)],
    ['garbage', undefined, Buffer.from('this is not multipart at all')],
    [
      'a malformed part header',
      undefined,
      Buffer.from(`--${BOUNDARY}\r\nbroken header line\r\n\r\nx\r\n--${BOUNDARY}--\r\n`),
    ],
  ])('%s is HttpError 400', async (_label, type, body) => {
    const env = multipartEnv(body, type === undefined ? {} : { CONTENT_TYPE: type })
    expect(await failure(new TsgiRequest(env).bodyParameters())).toBe(400)
    expect(env['tsgix.request.upload_dir']).toBeUndefined()
  })

  it('a body shorter than Content-Length is HttpError 400 and removes partial files', async () => {
    const body = multipart([{ name: 'f', value: Buffer.alloc(200_000, 1), filename: 'f' }])
    const env = multipartEnv(body, { CONTENT_LENGTH: String(body.length + 10) })
    expect(await failure(new TsgiRequest(env).uploads())).toBe(400)
    expect(env['tsgix.request.upload_dir']).toBeUndefined()
  })
})

describe('multipart temp files when cleanup runs mid-parse', () => {
  it('stores no file after the cleanup handlers ran (they would never run again)', async () => {
    const first = multipart([{ name: 'a', value: 'one', filename: 'a.txt' }])
    // The same body, cut before its closing boundary, then a second file part.
    const cut = first.subarray(0, first.length - `--${BOUNDARY}--\r\n`.length)
    const rest = multipart([{ name: 'b', value: 'two', filename: 'b.txt' }])
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let firstSaved: () => void = () => {}
    const saved = new Promise<void>((resolve) => {
      firstSaved = resolve
    })
    const env = multipartEnv(Buffer.alloc(0), {
      CONTENT_LENGTH: String(cut.length + rest.length),
      'tsgi.input': (async function* () {
        yield cut
        firstSaved()
        await released
        yield rest
      })(),
    })
    const parsed = new TsgiRequest(env).uploads().then(
      (uploads) => uploads,
      (err: unknown) => err,
    )
    await saved
    // The first part's file is being written; the server now cleans the request up.
    for (;;) {
      const dir = env['tsgix.request.upload_dir']
      if (dir !== undefined && existsSync(join(dir, '0'))) break
      await new Promise((resolve) => setImmediate(resolve))
    }
    const firstDir = env['tsgix.request.upload_dir']!
    await runCleanup(env)
    expect(existsSync(firstDir)).toBe(false)
    release()
    const outcome = await parsed
    expect(outcome).toBeInstanceOf(Error)
    const later = env['tsgix.request.upload_dir']
    expect(later === undefined || !existsSync(later)).toBe(true)
  })

  it('concurrent removals both resolve only once the directory is gone', async () => {
    const env = multipartEnv(multipart([{ name: 'f', value: 'data', filename: 'a.txt' }]))
    const upload = (await new TsgiRequest(env).upload('f'))!
    const dir = dirname(upload.path)
    const a = new TsgiRequest(env).cleanup().then(() => existsSync(dir))
    const b = new TsgiRequest(env).cleanup().then(() => existsSync(dir))
    expect(await Promise.all([a, b])).toEqual([false, false])
  })
})
