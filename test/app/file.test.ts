import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { file } from '../../src/app/file.js'
import { isFileBody, readBody } from '../../src/body.js'
import { testApp } from '../../src/testing/index.js'
import type { App } from '../../src/types.js'
import { callTriple } from '../middleware/forms.js'
import { BIN, envFor, type Fixture, makeFixture, SECRET } from './file-fixtures.js'

let fx: Fixture
let app: App
beforeAll(() => {
  fx = makeFixture()
  app = file({ root: fx.root, precompressed: true, etag: true })
})
afterAll(() => fx.cleanup())

describe('File: Plack t/Plack-Middleware/file.t', () => {
  it('serves the `file` option for every path, text/plain for a name without extension', async () => {
    await testApp(file({ file: join(fx.root, 'Changes') }), async (fetch) => {
      const res = await fetch('/')
      expect(res.status).toBe(200)
      expect(await res.text()).toMatch(/Plack/)
      const other = await fetch('/whatever')
      expect(other.status).toBe(200)
      expect(other.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    })
  })

  it('uses the contentType option', async () => {
    await testApp(file({ file: join(fx.root, 'Changes'), contentType: 'text/x-changes' }), async (fetch) => {
      const res = await fetch('/whatever')
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/x-changes; charset=utf-8')
      expect(await res.text()).toMatch(/Plack/)
    })
  })

  it('serves from root, refuses ../ with 403 forbidden, 404s trailing slashes on files', async () => {
    const ok = await callTriple(app, envFor('/hello.txt'))
    expect(ok[0]).toBe(200)
    expect((await readBody(ok[2])).toString()).toBe('Hello\n')
    const up = await callTriple(app, envFor('/../root/hello.txt'))
    expect(up[0]).toBe(403)
    expect(up[2]).toEqual(['forbidden'])
    for (let i = 1; i <= 100; i++) {
      const res = await callTriple(app, envFor(`/hello.txt${'/'.repeat(i)}`))
      expect(res[0]).toBe(404)
      expect(res[2]).toEqual(['not found'])
    }
  })

  it('404s a missing `file`', async () => {
    const res = await callTriple(file({ file: join(fx.root, 'nope') }), envFor('/'))
    expect(res[0]).toBe(404)
  })
})

describe.each(['MockHTTP', 'Server'] as const)('File through %s', (impl) => {
  it('sends type, length, Last-Modified, Accept-Ranges and the bytes', async () => {
    await testApp(
      app,
      async (fetch) => {
        const res = await fetch('/data.bin')
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toBe('application/octet-stream')
        expect(res.headers.get('content-length')).toBe('1000')
        expect(res.headers.get('accept-ranges')).toBe('bytes')
        expect(res.headers.get('last-modified')).toBe(statSync(join(fx.root, 'data.bin')).mtime.toUTCString())
        expect(res.headers.get('vary')).toBeNull()
        expect(Buffer.from(await res.arrayBuffer()).equals(BIN)).toBe(true)
      },
      { impl },
    )
  })

  it('answers HEAD with the headers and no body, other methods with 405', async () => {
    await testApp(
      app,
      async (fetch) => {
        const head = await fetch('/hello.txt', { method: 'HEAD' })
        expect(head.status).toBe(200)
        expect(head.headers.get('content-length')).toBe('6')
        expect(head.headers.get('last-modified')).toBe('Thu, 02 Jan 2020 03:04:05 GMT')
        expect(await head.text()).toBe('')
        const post = await fetch('/hello.txt', { method: 'POST', body: 'x' })
        expect(post.status).toBe(405)
        expect(post.headers.get('allow')).toBe('GET, HEAD')
      },
      { impl },
    )
  })

  it('streams a multipart/byteranges body', async () => {
    await testApp(
      app,
      async (fetch) => {
        const res = await fetch('/data.bin', { headers: { range: 'bytes=0-1, 10-12' } })
        expect(res.status).toBe(206)
        const type = res.headers.get('content-type') ?? ''
        const boundary = /^multipart\/byteranges; boundary=(\w+)$/.exec(type)?.[1]
        expect(boundary).toBeDefined()
        const raw = Buffer.from(await res.arrayBuffer())
        expect(res.headers.get('content-length')).toBe(String(raw.length))
        const text = raw.toString('latin1')
        const parts = text.split(`--${boundary}`)
        expect(parts).toHaveLength(4)
        expect(parts[1]).toBe(
          `\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/1000\r\n\r\n${BIN.subarray(0, 2).toString('latin1')}\r\n`,
        )
        expect(parts[2]).toContain('Content-Range: bytes 10-12/1000\r\n\r\n')
        expect(parts[2]?.endsWith(`${BIN.subarray(10, 13).toString('latin1')}\r\n`)).toBe(true)
        expect(parts[3]).toBe('--\r\n')
      },
      { impl },
    )
  })
})

describe('File: content types', () => {
  it.each([
    ['/hello.txt', {}, 'text/plain; charset=utf-8'],
    ['/style.css', {}, 'text/css; charset=utf-8'],
    ['/app.js', {}, 'text/javascript; charset=utf-8'],
    ['/data.json', {}, 'application/json; charset=utf-8'],
    ['/face.jpg', {}, 'image/jpeg'],
    ['/data.bin', {}, 'application/octet-stream'],
    ['/Changes', {}, 'text/plain; charset=utf-8'],
    ['/hello.txt', { encoding: 'iso-8859-1' }, 'text/plain; charset=iso-8859-1'],
    ['/face.jpg', { contentType: 'image/x-custom' }, 'image/x-custom'],
    ['/hello.txt', { contentType: 'text/html; charset=utf-16' }, 'text/html; charset=utf-16'],
    [
      '/hello.txt',
      { contentType: (p: string) => (p.endsWith('.txt') ? 'text/x-fooo' : 'x/y') },
      'text/x-fooo; charset=utf-8',
    ],
  ] as const)('%s with %o is %s', async (path, opts, type) => {
    const res = await callTriple(file({ root: fx.root, ...opts }), envFor(path))
    expect(res[0]).toBe(200)
    expect(res[1][1]).toBe(type)
  })
})

describe('File: what is found', () => {
  it.each([
    ['/sub', 404],
    ['/sub/', 404],
    ['', 404],
    ['/', 404],
    ['/missing.txt', 404],
    ['/sub/inner.txt', 200],
    ['//sub//inner.txt', 200],
    ['/./sub/./inner.txt', 200],
    ['/link.txt', 200],
    ['/escape.txt', 403],
    ['/escape-dir/secret.txt', 403],
    ['/stuff../Hello.txt', 200],
    ['/#foo', 200],
    ['/hello.txt/x', 404],
    [`/${'a'.repeat(5000)}`, 404],
  ])('%s → %i', async (path, status) => {
    const res = await callTriple(app, envFor(path))
    expect(res[0]).toBe(status)
    if (status === 200) expect(isFileBody(res[2])).toBe(true)
    else expect((await readBody(res[2])).toString()).not.toContain(SECRET)
  })

  it('does not answer If-Modified-Since with 304 (that is ConditionalGET)', async () => {
    const res = await callTriple(
      app,
      envFor('/hello.txt', { HTTP_IF_MODIFIED_SINCE: 'Thu, 02 Jan 2020 03:04:05 GMT' }),
    )
    expect(res[0]).toBe(200)
  })

  it.skipIf(process.getuid?.() === 0)('403s an unreadable file', async () => {
    const { chmodSync, writeFileSync } = await import('node:fs')
    writeFileSync(join(fx.root, 'locked.txt'), 'x')
    chmodSync(join(fx.root, 'locked.txt'), 0)
    expect((await callTriple(app, envFor('/locked.txt')))[0]).toBe(403)
  })
})

describe('File options', () => {
  it.each([
    [{ nope: 1 }, /File: unknown option 'nope'/],
    [{ root: 1 }, /File: option 'root' must be a string/],
    [{ root: '' }, /File: option 'root' must not be empty/],
    [{ file: '' }, /File: option 'file' must not be empty/],
    [{ contentType: 'nope' }, /File: option 'contentType'/],
    [{ contentType: 'text/plain\r\nX: y' }, /File: option 'contentType'/],
    [{ encoding: 'a;b' }, /File: option 'encoding'/],
    [{ precompressed: 'br' }, /File: option 'precompressed'/],
    [{ precompressed: ['br', 'br'] }, /File: option 'precompressed'/],
    [{ etag: 'yes' }, /File: option 'etag' must be a boolean/],
    [[], /File: options must be an object/],
  ])('rejects %o', (opts, message) => {
    expect(() => file(opts as never)).toThrow(message)
  })

  it('reports a contentType function that returns no string as an error', async () => {
    const bad = file({ root: fx.root, contentType: (() => 5) as never })
    await expect(callTriple(bad, envFor('/hello.txt'))).rejects.toThrow(
      /contentType function returned number/,
    )
  })
})

describe('File: a big file through the real server', () => {
  it('streams 64 MiB without holding it in memory', async () => {
    const { closeSync, openSync, ftruncateSync, writeSync } = await import('node:fs')
    const path = join(fx.base, 'root', 'big.bin')
    const fd = openSync(path, 'w')
    ftruncateSync(fd, 64 * 1024 * 1024)
    writeSync(fd, 'END', 64 * 1024 * 1024 - 3)
    closeSync(fd)
    await testApp(
      app,
      async (_, { url }) => {
        const http = await import('node:http')
        const before = process.memoryUsage.rss()
        let peak = before
        let bytes = 0
        let last = ''
        await new Promise<void>((resolve, reject) => {
          http.get(`${url}/big.bin`, { agent: false }, (res) => {
            let n = 0
            res.on('data', (chunk: Buffer) => {
              bytes += chunk.length
              last = (last + chunk.toString('latin1')).slice(-3)
              if (++n % 64 === 0) peak = Math.max(peak, process.memoryUsage.rss())
            })
            res.on('end', resolve)
            res.on('error', reject)
          })
        })
        expect(bytes).toBe(64 * 1024 * 1024)
        expect(last).toBe('END')
        expect(peak - before).toBeLessThan(50 * 1024 * 1024)
      },
      { impl: 'Server' },
    )
  })
})
