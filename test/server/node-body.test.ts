import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileBody } from '../../src/body.js'
import type { App, Writer } from '../../src/types.js'
import { deferred, raw, rawConnect, readUntil, start } from './node-helpers.js'

let dir: string
let file: string
const fileText = 'abcdefghijklmnopqrstuvwxyz'

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-node-'))
  file = join(dir, 'letters.txt')
  await writeFile(file, fileText)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const close = 'Connection: close\r\n\r\n'

/** Splits a raw HTTP/1.1 response into head and body. */
function split(text: string): { head: string; body: string } {
  const i = text.indexOf('\r\n\r\n')
  return { head: text.slice(0, i), body: text.slice(i + 4) }
}

describe('request bodies', () => {
  it('streams a large POST body through tsgi.input, read incrementally', async () => {
    const size = 8 * 1024 * 1024
    const { url } = await start(async (env) => {
      let bytes = 0
      let chunks = 0
      for await (const chunk of env['tsgi.input']) {
        bytes += chunk.byteLength
        chunks++
      }
      return [200, [], [JSON.stringify({ bytes, chunks })]]
    })
    const body = Buffer.alloc(size, 7)
    const res = await fetch(url, { method: 'POST', body })
    const out = (await res.json()) as { bytes: number; chunks: number }
    expect(out.bytes).toBe(size)
    expect(out.chunks).toBeGreaterThan(1)
  })

  it('discards an unread body so the keep-alive connection serves the next request', async () => {
    let n = 0
    const { port } = await start(() => [200, [], [`answer ${++n}`]])
    const socket = await rawConnect(port)
    const body = 'x'.repeat(200_000)
    socket.write(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
    socket.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n')
    const seen = await readUntil(socket, /answer 2$/)
    expect(seen).toMatch(/answer 1/)
    expect(seen.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2)
    socket.destroy()
  })
})

describe('response bodies', () => {
  it('writes an array body and adds Content-Length in bytes', async () => {
    const { url } = await start(() => [
      200,
      ['Content-Type', 'text/plain'],
      ['caf', 'é', new Uint8Array([33])],
    ])
    const res = await fetch(url)
    expect(res.headers.get('content-length')).toBe('6')
    expect(await res.text()).toBe('café!')
  })

  it('keeps the Content-Length the app set (not duplicated)', async () => {
    const { port } = await start(() => [200, ['content-length', '2'], ['ok']])
    const text = await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(text.match(/content-length/gi)).toHaveLength(1)
    expect(split(text).body).toBe('ok')
  })

  it('does not change the app header list (it may be a shared constant)', async () => {
    const headers = ['Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked']
    const { url } = await start(() => [200, headers, ['x']])
    await (await fetch(url)).text()
    await (await fetch(url)).text()
    expect(headers).toEqual(['Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked'])
  })

  it('an empty array body gives Content-Length: 0', async () => {
    const { port } = await start(() => [200, [], []])
    const text = await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(text).toMatch(/Content-Length: 0\r\n/)
    expect(split(text).body).toBe('')
  })

  it('streams an async generator chunked, skipping empty chunks', async () => {
    const { port } = await start(() => [
      200,
      [],
      (async function* body() {
        yield 'one,'
        yield ''
        yield new TextEncoder().encode('two')
      })(),
    ])
    const text = await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${close}`)
    const { head, body } = split(text)
    expect(head).toMatch(/Transfer-Encoding: chunked/)
    expect(body).toBe('4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n')
  })

  it('streams a node Readable and a web ReadableStream', async () => {
    const { url } = await start((env) => {
      if (env.PATH_INFO === '/node') return [200, [], Readable.from(['a', 'b', 'c'])]
      const web = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('web'))
          controller.close()
        },
      })
      return [200, [], web as unknown as AsyncIterable<Uint8Array>]
    })
    expect(await (await fetch(`${url}/node`)).text()).toBe('abc')
    expect(await (await fetch(`${url}/web`)).text()).toBe('web')
  })

  it.each([
    [{}, fileText, '26'],
    [{ start: 2, end: 4 }, 'cde', '3'],
    [{ start: 20 }, 'uvwxyz', '6'],
    [{ start: 24, end: 999 }, 'yz', '2'],
  ])('sends a FileBody %o with Content-Length', async (range, expected, length) => {
    const { url } = await start(() => [200, ['Content-Type', 'text/plain'], fileBody(file, range)])
    const res = await fetch(url)
    expect(res.headers.get('content-length')).toBe(length)
    expect(await res.text()).toBe(expected)
  })

  it.each([
    ['the whole file', {}, '26', 200, fileText],
    ['a range', { start: 2, end: 4 }, '3', 200, 'cde'],
    ['a file shorter than declared', {}, '30', 500, 'Internal Server Error'],
    ['a file longer than declared', {}, '20', 500, 'Internal Server Error'],
    [
      'a range cut by the end of the file, declared whole',
      { start: 24, end: 999 },
      '976',
      500,
      'Internal Server Error',
    ],
  ])('a FileBody with a declared Content-Length: %s', async (_name, range, declared, status, body) => {
    const { url, errors } = await start(() => [200, ['Content-Length', declared], fileBody(file, range)])
    const res = await fetch(url)
    expect(res.status).toBe(status)
    expect(await res.text()).toBe(body)
    if (status === 500) expect(errors.text).toMatch(/Content-Length/)
  })

  it('a large FileBody whose file is shorter than declared gives a 500 before the head', async () => {
    const big = join(dir, 'big.bin')
    await writeFile(big, Buffer.alloc(300 * 1024, 0x62))
    const { url, errors } = await start(() => [200, ['Content-Length', String(400 * 1024)], fileBody(big)])
    const res = await fetch(url)
    expect(res.status).toBe(500)
    expect(errors.text).toMatch(/Content-Length/)
  })

  it('answers HEAD on a FileBody with its length and no body', async () => {
    const { port } = await start(() => [200, [], fileBody(file)])
    const text = await raw(port, `HEAD / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(text).toMatch(/Content-Length: 26\r\n/)
    expect(split(text).body).toBe('')
  })

  it('a missing FileBody file gives a 500 and a message', async () => {
    const { url, errors } = await start(() => [200, [], fileBody(join(dir, 'nope'))])
    const res = await fetch(url)
    expect(res.status).toBe(500)
    expect(errors.text).toMatch(/ENOENT/)
  })

  it('sends a delayed response given as a triple', async () => {
    const { url } = await start(() => (respond) => {
      setImmediate(() => respond([201, ['X-Late', 'yes'], ['later']]))
    })
    const res = await fetch(url)
    expect(res.status).toBe(201)
    expect(res.headers.get('x-late')).toBe('yes')
    expect(await res.text()).toBe('later')
  })

  it('streams through a writer: head first, then chunks, then close', async () => {
    let writer: Writer | undefined
    const { port } = await start(() => (respond) => {
      writer = respond([200, ['Content-Type', 'text/plain']])
    })
    const socket = await rawConnect(port)
    socket.write(`GET / HTTP/1.1\r\nHost: h\r\n${close}`)
    const head = await readUntil(socket, /\r\n\r\n/)
    expect(head).toMatch(/^HTTP\/1\.1 200 OK/)
    const rest = once(socket, 'close')
    const parts: string[] = []
    socket.on('data', (d: Buffer) => parts.push(d.toString()))
    await writer?.write('hello ')
    await writer?.write(new TextEncoder().encode('world'))
    await writer?.close()
    await rest
    expect(parts.join('')).toBe('6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n')
    await expect(writer?.write('more')).rejects.toThrow(/after close/)
  })
})

describe('no body on the wire', () => {
  it.each([
    ['HEAD', 200],
    ['GET', 204],
    ['GET', 304],
  ])('%s with status %i: no body bytes, iterable never read and freed', async (method, status) => {
    let pulled = false
    let returned = false
    const body: AsyncIterable<string> & AsyncIterator<string> = {
      [Symbol.asyncIterator]() {
        return this
      },
      async next() {
        pulled = true
        return { done: false, value: 'SHOULD-NOT-APPEAR' }
      },
      async return() {
        returned = true
        return { done: true, value: undefined }
      },
    }
    const { port } = await start(() => [status, ['X-Status', String(status)], body])
    const text = await raw(port, `${method} / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
    expect(text).toMatch(/X-Status/)
    expect(text).not.toContain('SHOULD-NOT-APPEAR')
    expect(split(text).body).toBe('')
    expect(text).not.toMatch(/Transfer-Encoding/)
    expect(pulled).toBe(false)
    expect(returned).toBe(true)
  })

  it('destroys a Readable body of a 204', async () => {
    const stream = Readable.from(['never'])
    const { port } = await start(() => [204, [], stream])
    const text = await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(split(text).body).toBe('')
    expect(stream.destroyed).toBe(true)
  })

  it('HEAD with an array body sends Content-Length but no bytes', async () => {
    const { port } = await start(() => [200, [], ['hello']])
    const text = await raw(port, `HEAD / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(text).toMatch(/Content-Length: 5\r\n/)
    expect(split(text).body).toBe('')
  })

  it('a 304 with an array body gets no Content-Length added and no bytes', async () => {
    const { port } = await start(() => [304, ['ETag', '"x"'], ['ignored']])
    const text = await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(text).not.toMatch(/Content-Length/i)
    expect(split(text).body).toBe('')
  })

  it('a writer for HEAD writes nothing and resolves', async () => {
    let done = false
    const { port } = await start(() => async (respond) => {
      const w = respond([200, []])
      await w.write('nothing')
      await w.close()
      done = true
    })
    const text = await raw(port, `HEAD / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(split(text).body).toBe('')
    expect(done).toBe(true)
  })
})

describe('Transfer-Encoding from the app', () => {
  const app: App = () => [
    200,
    ['Transfer-Encoding', 'chunked', 'Content-Type', 'text/plain'],
    (async function* body() {
      yield 'abc'
    })(),
  ]

  it('HTTP/1.1: exactly one Transfer-Encoding header and single framing', async () => {
    const { port } = await start(app)
    const text = await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(text.match(/transfer-encoding/gi)).toHaveLength(1)
    expect(split(text).body).toBe('3\r\nabc\r\n0\r\n\r\n')
  })

  it('HTTP/1.0: dropped; the body is sent raw and the connection closed', async () => {
    const { port } = await start(app)
    const text = await raw(port, 'GET / HTTP/1.0\r\n\r\n')
    expect(text).not.toMatch(/transfer-encoding/i)
    expect(split(text).body).toBe('abc')
  })

  it('with an array body: chunked as asked, no Content-Length added', async () => {
    const { port } = await start(() => [200, ['Transfer-Encoding', 'chunked'], ['ab', 'c']])
    const text = await raw(port, `GET / HTTP/1.1\r\nHost: h\r\n${close}`)
    expect(text).not.toMatch(/content-length/i)
    expect(split(text).body).toBe('2\r\nab\r\n1\r\nc\r\n0\r\n\r\n')
  })
})

describe('backpressure', () => {
  const chunk = Buffer.alloc(64 * 1024, 97)
  const total = 32 * 1024 * 1024

  /** Captures the node response of the next request. */
  interface Box {
    res?: ServerResponse
    fullWrites: number
    full: ReturnType<typeof deferred<void>>
  }

  function captureRes(server: { server: import('node:http').Server }): Box {
    const box: Box = { fullWrites: 0, full: deferred() }
    server.server.prependListener('request', (_req, res: ServerResponse) => {
      box.res = res
      const write = res.write.bind(res) as (c: unknown) => boolean
      res.write = ((c: unknown) => {
        const ok = write(c)
        if (!ok) {
          box.fullWrites++
          box.full.resolve()
        }
        return ok
      }) as typeof res.write
    })
    return box
  }

  /** Reads a response body slowly: pauses until the server first meets backpressure. */
  function slowRead(port: number, box: Box): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ port, host: '127.0.0.1', path: '/' }, (res) => {
        let bytes = 0
        res.pause()
        box.full.promise.then(() => res.resume())
        res.on('data', (d: Buffer) => {
          bytes += d.length
        })
        res.on('end', () => resolve(bytes))
      })
      req.on('error', reject)
      req.end()
    })
  }

  it('pulls an async-iterable body only as fast as the socket takes it', async () => {
    let box: Box = { fullWrites: 0, full: deferred() }
    let maxBuffered = 0
    const s = await start(() => [
      200,
      [],
      (async function* body() {
        for (let sent = 0; sent < total; sent += chunk.length) {
          yield chunk
          maxBuffered = Math.max(maxBuffered, box.res?.writableLength ?? 0)
        }
      })(),
    ])
    box = captureRes(s.server)
    expect(await slowRead(s.port, box)).toBe(total)
    expect(box.fullWrites).toBeGreaterThan(0)
    // Without backpressure the generator would run ahead by megabytes while the client is paused.
    expect(maxBuffered).toBeLessThanOrEqual(4 * chunk.length)
  })

  it('Writer.write resolves only once the socket can take more', async () => {
    let box: Box = { fullWrites: 0, full: deferred() }
    let stillFull = 0
    const s = await start(() => async (respond) => {
      const w = respond([200, []])
      for (let sent = 0; sent < total; sent += chunk.length) {
        await w.write(chunk)
        if (box.res?.writableNeedDrain) stillFull++
      }
      await w.close()
    })
    box = captureRes(s.server)
    expect(await slowRead(s.port, box)).toBe(total)
    expect(box.fullWrites).toBeGreaterThan(0)
    expect(stillFull).toBe(0)
  })
})
