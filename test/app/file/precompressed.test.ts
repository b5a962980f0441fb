import { join } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { file } from '../../../src/app/file.js'
import { testApp } from '../../../src/testing/index.js'
import type { App } from '../../../src/types.js'
import { CSS, type Fixture, makeFixture, SECRET } from '../file-fixtures.js'

let fx: Fixture
let app: App
beforeAll(() => {
  fx = makeFixture()
  app = file({ root: fx.root, precompressed: true })
})
afterAll(() => fx.cleanup())

const decode: Record<string, (b: Buffer) => Buffer> = {
  br: brotliDecompressSync,
  gzip: gunzipSync,
  none: (b) => b,
}

describe.each(['MockHTTP', 'Server'] as const)('File precompressed siblings through %s', (impl) => {
  it.each([
    ['br, gzip', 'br'],
    ['gzip, br', 'br'],
    ['gzip', 'gzip'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['*', 'br'],
    ['deflate', 'none'],
    ['identity', 'none'],
    ['br;q=0, gzip;q=0', 'none'],
    [undefined, 'none'],
  ])('Accept-Encoding %s → %s, with Vary', async (accept, coding) => {
    await testApp(
      app,
      async (fetch) => {
        const headers: Record<string, string> = accept === undefined ? {} : { 'accept-encoding': accept }
        const res = await fetch('/style.css', { headers })
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8')
        expect(res.headers.get('vary')).toBe('Accept-Encoding')
        expect(res.headers.get('content-encoding')).toBe(coding === 'none' ? null : coding)
        const raw = Buffer.from(await res.arrayBuffer())
        expect(res.headers.get('content-length')).toBe(String(raw.length))
        expect(decode[coding]!(raw).toString()).toBe(CSS)
      },
      { impl },
    )
  })
})

describe('File precompressed options', () => {
  async function encodingOf(a: App, path: string, accept: string): Promise<[string | null, string | null]> {
    let out: [string | null, string | null] = [null, null]
    await testApp(a, async (fetch) => {
      const res = await fetch(path, { headers: { 'accept-encoding': accept } })
      await res.arrayBuffer()
      out = [res.headers.get('content-encoding'), res.headers.get('vary')]
    })
    return out
  }

  it('is off by default: no sibling, no Vary', async () => {
    expect(await encodingOf(file({ root: fx.root }), '/style.css', 'br, gzip')).toEqual([null, null])
  })

  it('takes the codings and their order from an array', async () => {
    expect(
      await encodingOf(file({ root: fx.root, precompressed: ['gzip'] }), '/style.css', 'br, gzip'),
    ).toEqual(['gzip', 'Accept-Encoding'])
    expect(
      await encodingOf(file({ root: fx.root, precompressed: ['gzip', 'br'] }), '/style.css', '*'),
    ).toEqual(['gzip', 'Accept-Encoding'])
  })

  it('sends no Vary for a file without siblings', async () => {
    expect(await encodingOf(app, '/hello.txt', 'br, gzip')).toEqual([null, null])
  })

  it('falls back to identity when only another coding exists', async () => {
    expect(await encodingOf(app, '/app.js', 'br')).toEqual([null, 'Accept-Encoding'])
    expect(await encodingOf(app, '/app.js', 'gzip')).toEqual(['gzip', 'Accept-Encoding'])
  })

  it('ignores a sibling whose real path leaves the root', async () => {
    await testApp(app, async (fetch) => {
      const res = await fetch('/app.js', { headers: { 'accept-encoding': 'br' } })
      const text = await res.text()
      expect(text).toBe('alert(1)\n')
      expect(text).not.toContain(SECRET)
    })
  })

  it('serves ranges of the chosen representation', async () => {
    await testApp(app, async (fetch) => {
      const res = await fetch('/style.css', { headers: { 'accept-encoding': 'gzip', range: 'bytes=0-1' } })
      expect(res.status).toBe(206)
      expect(res.headers.get('content-encoding')).toBe('gzip')
      expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0x1f, 0x8b])
    })
  })

  it('works with the `file` option', async () => {
    const single = file({ file: join(fx.root, 'style.css'), precompressed: true })
    expect(await encodingOf(single, '/', 'br')).toEqual(['br', 'Accept-Encoding'])
  })
})
