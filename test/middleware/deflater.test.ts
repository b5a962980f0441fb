import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import zlib from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Coding, type DeflaterOptions, deflater } from '../../middleware/deflater.js'
import { fileBody } from '../../src/body.js'
import { testApp } from '../../src/testing/index.js'
import type { App, Chunk, Env, HeaderList } from '../../src/types.js'
import { FORMS, type Form, iterableBody, respondIn } from './forms.js'

const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(60)
const CODINGS: readonly Coding[] = ['br', 'gzip', 'deflate']

function decode(coding: string | null, data: Uint8Array): string {
  if (coding === 'gzip') return zlib.gunzipSync(data).toString()
  if (coding === 'deflate') return zlib.inflateSync(data).toString()
  if (coding === 'br') return zlib.brotliDecompressSync(data).toString()
  return Buffer.from(data).toString()
}

function wrap(options: DeflaterOptions | undefined, reply: (env: Env) => ReturnType<App>): App {
  return deflater(options)(reply)
}

async function get(app: App, headers: Record<string, string> = {}, method = 'GET') {
  let out: { status: number; headers: Headers; body: Uint8Array } | undefined
  await testApp(app, async (fetch) => {
    const res = await fetch('/', { method, headers })
    out = { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) }
  })
  return out!
}

const textApp = (
  form: Form,
  headers: HeaderList = ['Content-Type', 'text/plain'],
  chunks: Chunk[] = [TEXT],
) => (() => respondIn(form, 200, headers, chunks)) satisfies App

describe('Deflater: compresses every body form with every coding', () => {
  it.each(FORMS.flatMap((form) => CODINGS.map((coding) => [form, coding] as const)))(
    '%s body, %s',
    async (form, coding) => {
      const chunks = [TEXT.slice(0, 1000), Buffer.from(TEXT.slice(1000, 2000)), '', TEXT.slice(2000)]
      const res = await get(wrap(undefined, textApp(form, ['Content-Type', 'text/plain'], chunks)), {
        'Accept-Encoding': coding,
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-encoding')).toBe(coding)
      expect(res.headers.get('vary')).toBe('Accept-Encoding')
      expect(res.body.byteLength).toBeLessThan(TEXT.length / 4)
      expect(decode(coding, res.body)).toBe(TEXT)
      if (form === 'array') expect(res.headers.get('content-length')).toBe(String(res.body.byteLength))
    },
  )

  it('compresses a file body as a stream', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsgi-deflater-'))
    try {
      const path = join(dir, 'page.html')
      await writeFile(path, TEXT)
      const app = wrap(undefined, () => [
        200,
        ['Content-Type', 'text/html', 'Content-Length', String(TEXT.length)],
        fileBody(path),
      ])
      const res = await get(app, { 'Accept-Encoding': 'gzip' })
      expect(res.headers.get('content-encoding')).toBe('gzip')
      expect(decode('gzip', res.body)).toBe(TEXT)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('removes a stale Content-Length from a stream', async () => {
    const app = textApp('iterable', ['Content-Type', 'text/plain', 'Content-Length', String(TEXT.length)])
    const res = await get(wrap(undefined, app), { 'Accept-Encoding': 'gzip' })
    expect(res.headers.get('content-length')).not.toBe(String(TEXT.length))
    expect(decode('gzip', res.body)).toBe(TEXT)
  })

  it('round-trips any chunks in any form (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }),
        fc.constantFrom(...FORMS),
        fc.constantFrom(...CODINGS),
        async (parts, form, coding) => {
          const app = wrap({ threshold: 0 }, () =>
            respondIn(form, 200, ['Content-Type', 'text/plain'], parts),
          )
          const res = await get(app, { 'Accept-Encoding': coding })
          const expected = Buffer.concat(parts)
          const body = Buffer.from(res.body)
          const got =
            coding === 'gzip'
              ? zlib.gunzipSync(body)
              : coding === 'br'
                ? zlib.brotliDecompressSync(body)
                : zlib.inflateSync(body)
          expect(res.headers.get('content-encoding')).toBe(coding)
          expect(got.equals(expected)).toBe(true)
        },
      ),
      { numRuns: 40 },
    )
  })
})

// Plack's t/Plack-Middleware/deflater.t, against a real server. Plack compresses any response;
// here a Content-Type is needed (only compressible types are compressed) and the threshold is off.
describe("Deflater: Plack's deflater.t", () => {
  const bodies: [string, () => ReturnType<App>][] = [
    ['array, one chunk', () => [200, ['Content-Type', 'text/plain'], ['Hello World']]],
    ['array, two chunks', () => [200, ['Content-Type', 'text/plain'], ['Hello ', 'World']]],
    ['array, with an empty chunk', () => [200, ['Content-Type', 'text/plain'], ['Hello ', '', 'World']]],
    ['stream, one chunk', () => [200, ['Content-Type', 'text/plain'], iterableBody(['Hello World'])]],
    ['stream, two chunks', () => [200, ['Content-Type', 'text/plain'], iterableBody(['Hello', ' World'])]],
    [
      'stream, with an empty chunk',
      () => [200, ['Content-Type', 'text/plain'], iterableBody(['Hello', '', ' World'])],
    ],
  ]
  it.each(bodies)('%s', async (_name, reply) => {
    await testApp(
      deflater({ threshold: 0 })(reply),
      async (fetch) => {
        const res = await fetch('/', { headers: { 'Accept-Encoding': 'gzip' } })
        expect(res.headers.get('content-encoding')).toBe('gzip')
        expect(decode('gzip', new Uint8Array(await res.arrayBuffer()))).toBe('Hello World')
      },
      { impl: 'Server' },
    )
  })
})

describe('Deflater: negotiation', () => {
  const table: [string | undefined, Coding[] | undefined, string | null][] = [
    [undefined, undefined, null],
    ['', undefined, null],
    ['gzip', undefined, 'gzip'],
    ['deflate', undefined, 'deflate'],
    ['br', undefined, 'br'],
    ['GZIP', undefined, 'gzip'],
    ['gzip, deflate, br', undefined, 'br'],
    ['deflate, gzip', undefined, 'gzip'],
    ['gzip;q=1, br;q=0.5', undefined, 'gzip'],
    ['br;q=0, gzip', undefined, 'gzip'],
    ['deflate;q=0.5, identity', undefined, null],
    ['*', undefined, 'br'],
    ['*;q=0', undefined, null],
    ['gzip;q=0, *', undefined, 'br'],
    ['br;q=0, gzip;q=0, *;q=0.1', undefined, 'deflate'],
    ['identity', undefined, null],
    ['identity;q=0', undefined, null],
    ['x-gzip, compress', undefined, null],
    ['br, gzip;q=0.1', ['gzip'], 'gzip'],
    ['gzip, deflate', ['deflate', 'gzip'], 'deflate'],
    ['br', ['gzip', 'deflate'], null],
  ]
  it.each(table)('Accept-Encoding %j with encodings %j → %s', async (accept, encodings, expected) => {
    const app = wrap(encodings ? { encodings } : undefined, textApp('array'))
    const res = await get(app, accept === undefined ? {} : { 'Accept-Encoding': accept })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-encoding')).toBe(expected)
    expect(res.headers.get('vary')).toBe('Accept-Encoding')
    expect(decode(expected, res.body)).toBe(TEXT)
  })
})

describe('Deflater: responses left alone', () => {
  const big = [TEXT]
  const table: [
    string,
    DeflaterOptions | undefined,
    number,
    HeaderList,
    Chunk[],
    Record<string, unknown>,
    string | null,
  ][] = [
    ['204 No Content', undefined, 204, ['Content-Type', 'text/plain'], [], {}, null],
    ['304 Not Modified', undefined, 304, ['Content-Type', 'text/plain'], [], {}, null],
    [
      '206 Partial Content',
      undefined,
      206,
      ['Content-Type', 'text/plain', 'Content-Range', 'bytes 0-9/99'],
      big,
      {},
      null,
    ],
    [
      'Cache-Control: no-transform',
      undefined,
      200,
      ['Content-Type', 'text/plain', 'Cache-Control', 'no-transform'],
      big,
      {},
      null,
    ],
    [
      'Cache-Control: public, No-Transform',
      undefined,
      200,
      ['Content-Type', 'text/plain', 'Cache-Control', 'public, No-Transform'],
      big,
      {},
      null,
    ],
    [
      'already encoded',
      undefined,
      200,
      ['Content-Type', 'text/plain', 'Content-Encoding', 'identity'],
      big,
      {},
      null,
    ],
    ['image/png', undefined, 200, ['Content-Type', 'image/png'], big, {}, null],
    ['no Content-Type', undefined, 200, [], big, {}, null],
    ['application/zip', undefined, 200, ['Content-Type', 'application/zip'], big, {}, null],
    [
      'below the threshold',
      undefined,
      200,
      ['Content-Type', 'text/plain'],
      ['x'.repeat(1023)],
      {},
      'Accept-Encoding',
    ],
    [
      'below a custom threshold',
      { threshold: 5000 },
      200,
      ['Content-Type', 'text/plain'],
      big,
      {},
      'Accept-Encoding',
    ],
    [
      'tsgix.no-compress',
      undefined,
      200,
      ['Content-Type', 'text/plain'],
      big,
      { 'tsgix.no-compress': true },
      null,
    ],
    [
      'text/plain, compress-only-text-html',
      undefined,
      200,
      ['Content-Type', 'text/plain'],
      big,
      { 'tsgix.compress-only-text-html': true },
      null,
    ],
    [
      'text/html, not in contentTypes',
      { contentTypes: ['application/x-custom'] },
      200,
      ['Content-Type', 'text/html'],
      big,
      {},
      null,
    ],
  ]
  it.each(table)('%s', async (_name, options, status, headers, chunks, envKeys, vary) => {
    const app = wrap(options, (env) => {
      Object.assign(env, envKeys)
      return respondIn('array', status, headers, chunks)
    })
    const res = await get(app, { 'Accept-Encoding': 'gzip, deflate, br' })
    expect(res.status).toBe(status)
    expect(res.headers.get('content-encoding')).toBe(headers.includes('Content-Encoding') ? 'identity' : null)
    expect(res.headers.get('vary')).toBe(vary)
    expect(Buffer.from(res.body).toString()).toBe(chunks.join(''))
  })

  it('skips a stream whose Content-Length is below the threshold', async () => {
    const app = textApp('iterable', ['Content-Type', 'text/plain', 'Content-Length', '5'], ['hello'])
    const res = await get(wrap(undefined, app), { 'Accept-Encoding': 'gzip' })
    expect(res.headers.get('content-encoding')).toBeNull()
    expect(Buffer.from(res.body).toString()).toBe('hello')
  })
})

describe('Deflater: which types are compressed', () => {
  const table: [string, DeflaterOptions | undefined, Record<string, unknown>, boolean][] = [
    ['text/html; charset=utf-8', undefined, {}, true],
    ['application/json', undefined, {}, true],
    ['application/javascript', undefined, {}, true],
    ['image/svg+xml', undefined, {}, true],
    ['application/vnd.example+json', undefined, {}, true],
    ['application/x-made-up+xml', undefined, {}, true],
    ['text/x-unknown', undefined, {}, true],
    ['Text/CSS', undefined, {}, true],
    ['application/octet-stream', undefined, {}, true],
    ['font/woff2', undefined, {}, false],
    ['image/jpeg', undefined, {}, false],
    ['text/html', undefined, { 'tsgix.compress-only-text-html': true }, true],
    ['application/x-custom', { contentTypes: ['application/x-custom'] }, {}, true],
    ['text/css', { contentTypes: ['text/*'] }, {}, true],
    ['application/json', { contentTypes: ['text/*'] }, {}, false],
  ]
  it.each(table)('%s %j %j → %s', async (type, options, envKeys, compressed) => {
    const app = wrap(options, (env) => {
      Object.assign(env, envKeys)
      return respondIn('array', 200, ['Content-Type', type], [TEXT])
    })
    const res = await get(app, { 'Accept-Encoding': 'gzip' })
    expect(res.headers.get('content-encoding')).toBe(compressed ? 'gzip' : null)
    expect(decode(compressed ? 'gzip' : null, res.body)).toBe(TEXT)
  })
})

describe('Deflater: headers', () => {
  const varyTable: [HeaderList, string][] = [
    [[], 'Accept-Encoding'],
    [['Vary', 'Cookie'], 'Cookie, Accept-Encoding'],
    [['Vary', 'Cookie, accept-encoding'], 'Cookie, accept-encoding'],
    [['Vary', '*'], '*'],
    [['Vary', 'Cookie', 'Vary', 'Origin'], 'Cookie, Origin, Accept-Encoding'],
  ]
  it.each(varyTable)('Vary %j → %s', async (vary, expected) => {
    const res = await get(wrap(undefined, textApp('array', ['Content-Type', 'text/plain', ...vary])), {
      'Accept-Encoding': 'gzip',
    })
    expect(res.headers.get('vary')).toBe(expected)
  })

  it.each([
    ['"abc"', 'W/"abc"'],
    ['W/"abc"', 'W/"abc"'],
  ])('ETag %s becomes %s; Accept-Ranges is dropped', async (etag, expected) => {
    const headers = ['Content-Type', 'text/plain', 'ETag', etag, 'Accept-Ranges', 'bytes']
    const res = await get(wrap(undefined, textApp('iterable', headers)), { 'Accept-Encoding': 'br' })
    expect(res.headers.get('etag')).toBe(expected)
    expect(res.headers.get('accept-ranges')).toBeNull()
  })

  it('keeps a strong ETag when the response is not compressed', async () => {
    const res = await get(wrap(undefined, textApp('array', ['Content-Type', 'text/plain', 'ETag', '"abc"'])))
    expect(res.headers.get('etag')).toBe('"abc"')
  })

  it('answers HEAD with the headers a GET gets', async () => {
    const app = wrap(undefined, textApp('array'))
    const head = await get(app, { 'Accept-Encoding': 'gzip' }, 'HEAD')
    const full = await get(app, { 'Accept-Encoding': 'gzip' })
    expect(head.headers.get('content-encoding')).toBe('gzip')
    expect(head.headers.get('content-length')).toBe(full.headers.get('content-length'))
    expect(head.body.byteLength).toBe(0)
  })
})

describe('Deflater: streaming without waiting for the end', () => {
  // The app writes one chunk, then waits until the client has decompressed it before it
  // writes the next: the test can only finish if the first chunk was flushed on its own.
  function gatedApp(type: string) {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const app: App = () => async (respond) => {
      const writer = respond([200, ['Content-Type', type]])
      await writer.write('data: first\n\n')
      await gate
      await writer.write('data: second\n\n')
      await writer.close()
    }
    return { app, release }
  }

  it('flushes each text/event-stream event through a real server (gzip)', async () => {
    const { app, release } = gatedApp('text/event-stream')
    await testApp(
      deflater()(app),
      async (_fetch, ctx) => {
        const text = await new Promise<string>((resolve, reject) => {
          const req = http.get(`${ctx.url}/events`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
            expect(res.headers['content-encoding']).toBe('gzip')
            const gunzip = zlib.createGunzip()
            let received = ''
            gunzip.on('data', (data: Buffer) => {
              received += data.toString()
              if (received === 'data: first\n\n') release()
            })
            gunzip.on('end', () => resolve(received))
            gunzip.on('error', reject)
            res.pipe(gunzip)
          })
          req.on('error', reject)
        })
        expect(text).toBe('data: first\n\ndata: second\n\n')
      },
      { impl: 'Server' },
    )
  })

  it.each(CODINGS)('flushes every chunk with flush: true (%s, in process)', async (coding) => {
    const { app, release } = gatedApp('application/json')
    await testApp(deflater({ flush: true })(app), async (fetch) => {
      const res = await fetch('/', { headers: { 'Accept-Encoding': coding } })
      expect(res.headers.get('content-encoding')).toBe(coding)
      const inflate =
        coding === 'gzip'
          ? zlib.createGunzip()
          : coding === 'br'
            ? zlib.createBrotliDecompress()
            : zlib.createInflate()
      let received = ''
      inflate.on('data', (data: Buffer) => {
        received += data.toString()
        if (received === 'data: first\n\n') release()
      })
      const ended = new Promise((resolve) => inflate.on('end', resolve))
      for await (const chunk of res.body!) inflate.write(chunk)
      inflate.end()
      await ended
      expect(received).toBe('data: first\n\ndata: second\n\n')
    })
  })
})

describe('Deflater: options', () => {
  it('honours level and brotliQuality', async () => {
    for (const options of [{ level: 0 }, { level: 9 }, { brotliQuality: 0 }, { brotliQuality: 11 }]) {
      const coding = 'level' in options ? 'gzip' : 'br'
      const res = await get(wrap(options, textApp('iterable')), { 'Accept-Encoding': coding })
      expect(decode(coding, res.body)).toBe(TEXT)
    }
    const stored = await get(wrap({ level: 0 }, textApp('array')), { 'Accept-Encoding': 'gzip' })
    expect(stored.body.byteLength).toBeGreaterThan(TEXT.length)
  })

  it.each([
    [{ encodings: [] }, "option 'encodings'"],
    [{ encodings: ['gzip', 'gzip'] }, "option 'encodings'"],
    [{ encodings: ['compress'] }, "option 'encodings'"],
    [{ encodings: 'gzip' }, "option 'encodings'"],
    [{ threshold: -1 }, "option 'threshold'"],
    [{ threshold: 1.5 }, "option 'threshold'"],
    [{ level: 10 }, "option 'level'"],
    [{ brotliQuality: 12 }, "option 'brotliQuality'"],
    [{ contentTypes: 'text/html' }, "option 'contentTypes'"],
    [{ contentTypes: ['html'] }, "option 'contentTypes'"],
    [{ flush: 'yes' }, "option 'flush'"],
    [{ gzip: true }, "unknown option 'gzip'"],
  ])('%j → TypeError', (options, message) => {
    expect(() => deflater(options as unknown as DeflaterOptions)).toThrow(TypeError)
    expect(() => deflater(options as unknown as DeflaterOptions)).toThrow(message)
    expect(() => deflater(options as unknown as DeflaterOptions)).toThrow(/^Deflater: /)
  })
})
